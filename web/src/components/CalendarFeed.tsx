// "Add to my calendar" (SPEC §14): a secret feed URL of the user's bookings for their calendar
// app. The server keeps only the link's hash, so the page can show it only right after making it;
// a new link replaces the old one, and the feed can be stopped at any time.
import { useEffect, useRef, useState } from "react";
import { api } from "../api";
import { webcalUrl } from "../lib/regular";
import { ConfirmDialog } from "./Dialog";
import { ErrorNotice, SuccessNotice } from "./ErrorNotice";

type Pending = "rotate" | "revoke" | null;

export function CalendarFeed() {
  const [url, setUrl] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const input = useRef<HTMLInputElement>(null);

  // The new link is where the user's attention goes (and is read out by screen readers).
  useEffect(() => {
    if (url) input.current?.focus();
  }, [url]);

  async function create(rotating: boolean) {
    setPending(null);
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const feed = await api.createCalendarFeed();
      setUrl(feed.url);
      setMessage(rotating ? "A new calendar link is ready: the old one no longer works." : "Your calendar link is ready.");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function revoke() {
    setPending(null);
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.revokeCalendarFeed();
      setUrl(null);
      setMessage("The calendar feed is stopped: its link no longer works.");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!url) return;
    setError(null);
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(url);
      setMessage("Link copied.");
    } catch {
      // No clipboard access (an older browser, or permission refused): the link is selected instead.
      input.current?.focus();
      input.current?.select();
      setMessage("The link is selected: copy it with your device's Copy command.");
    }
  }

  return (
    <section aria-labelledby="calendar-title" className="card calendar-feed">
      <h2 id="calendar-title">Your calendar</h2>
      <p>
        See your bookings in Outlook, Google Calendar or Apple Calendar. Your calendar app subscribes to a private
        link and follows new bookings and cancellations.
      </p>
      <ErrorNotice error={error} />
      <SuccessNotice>{message}</SuccessNotice>
      {url ? (
        <>
          <div className="field">
            <label htmlFor="calendar-url">Your calendar link</label>
            <input
              id="calendar-url"
              ref={input}
              type="text"
              readOnly
              value={url}
              aria-describedby="calendar-url-hint"
              onFocus={(e) => e.currentTarget.select()}
            />
          </div>
          <p id="calendar-url-hint" className="notice notice-warning">
            Copy it now: for your security it is shown only once. Anyone with the link can see your bookings, so keep it
            private. Create a new link to replace it; the old one stops working.
          </p>
          <div className="row-actions">
            <button type="button" className="button-primary" onClick={() => void copy()}>
              Copy link
            </button>
            <a className="button button-secondary" href={webcalUrl(url)}>
              Open in calendar app
            </a>
          </div>
          <div className="row-actions">
            <button type="button" className="button-secondary" disabled={busy} onClick={() => setPending("rotate")}>
              Create a new link
            </button>
            <button type="button" className="button-danger-outline" disabled={busy} onClick={() => setPending("revoke")}>
              Stop the feed
            </button>
          </div>
        </>
      ) : (
        <>
          <p className="hint">
            The link is shown once, when you create it. If you made one before, creating a new one replaces it and the
            old one stops working.
          </p>
          <div className="row-actions">
            <button type="button" className="button-primary" disabled={busy} onClick={() => void create(false)}>
              Add to my calendar
            </button>
            <button type="button" className="button-danger-outline" disabled={busy} onClick={() => setPending("revoke")}>
              Stop the feed
            </button>
          </div>
        </>
      )}
      <ConfirmDialog
        open={pending === "rotate"}
        title="Create a new calendar link?"
        confirmLabel="Create a new link"
        cancelLabel="Keep this link"
        busy={busy}
        onCancel={() => setPending(null)}
        onConfirm={() => void create(true)}
      >
        <p>
          The link you have now stops working at once: calendar apps subscribed to it stop updating. Subscribe again with
          the new link.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending === "revoke"}
        title="Stop the calendar feed?"
        confirmLabel="Stop the feed"
        cancelLabel="Keep the feed"
        danger
        busy={busy}
        onCancel={() => setPending(null)}
        onConfirm={() => void revoke()}
      >
        <p>
          Your calendar link stops working: calendar apps subscribed to it no longer receive your bookings. You can create a
          new link at any time.
        </p>
      </ConfirmDialog>
    </section>
  );
}
