// "I'm away" (SPEC §14): cancel one's own bookings and requests from … to, optionally at one
// office, after a confirmation; then what was cancelled, and what was kept and why (a booking of
// today, for one, can no longer be cancelled by its owner).
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../api";
import { formatLongDate } from "../lib/dates";
import { cancelledText, describeKept } from "../lib/regular";
import type { Booking, Office } from "../types";
import { ConfirmDialog } from "./Dialog";
import { ErrorNotice } from "./ErrorNotice";

interface Outcome {
  cancelled: number;
  kept: string[];
}

export function RangeCancel({ bookings, onDone }: { bookings: Booking[]; onDone: () => void }) {
  const [offices, setOffices] = useState<Office[]>([]);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [office, setOffice] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useEffect(() => {
    let live = true;
    api.offices().then(
      (list) => live && setOffices(list),
      () => undefined, // without the list, the range covers every office
    );
    return () => {
      live = false;
    };
  }, []);

  const officeName = offices.find((o) => o.id === office)?.name ?? office;

  function ask(e: FormEvent) {
    e.preventDefault();
    setOutcome(null);
    setError(null);
    setConfirming(true);
  }

  async function cancelRange() {
    setConfirming(false);
    setBusy(true);
    setError(null);
    try {
      const result = await api.cancelRange({ from, to, office: office || null });
      setOutcome({ cancelled: result.cancelled, kept: result.kept.map((k) => describeKept(k, bookings)) });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
    onDone();
  }

  return (
    <section aria-labelledby="away-title" className="card range-cancel">
      <h2 id="away-title">I'm away</h2>
      <p>Cancel all your bookings and requests between two dates, so that others can take the places.</p>
      <form onSubmit={ask} className="inline-form">
        <div className="field">
          <label htmlFor="away-from">From</label>
          <input id="away-from" type="date" required value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="away-to">To</label>
          <input id="away-to" type="date" required value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="away-office">Office</label>
          <select id="away-office" value={office} onChange={(e) => setOffice(e.target.value)}>
            <option value="">All offices</option>
            {offices.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button-danger-outline" disabled={busy}>
          Cancel bookings in these dates
        </button>
      </form>
      <ErrorNotice error={error} title="Nothing cancelled" />
      {outcome && (
        <div className="notice notice-success" role="status" data-testid="range-cancel-result">
          <p>{cancelledText(outcome.cancelled)}</p>
          {outcome.kept.length > 0 && (
            <>
              <p>
                <strong>Kept</strong> (you can no longer cancel {outcome.kept.length === 1 ? "it" : "them"}):
              </p>
              <ul className="kept-list">
                {outcome.kept.map((text, i) => (
                  <li key={i}>{text}</li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      <ConfirmDialog
        open={confirming}
        title="Cancel your bookings in these dates?"
        confirmLabel="Cancel bookings"
        cancelLabel="Keep bookings"
        danger
        busy={busy}
        onCancel={() => setConfirming(false)}
        onConfirm={() => void cancelRange()}
      >
        <p>
          Your bookings and requests {office ? `at ${officeName}` : "at every office"} from{" "}
          {from ? formatLongDate(from) : "…"} to {to ? formatLongDate(to) : "…"} will be cancelled. Bookings you can no
          longer cancel, such as today's, are kept.
        </p>
      </ConfirmDialog>
    </section>
  );
}
