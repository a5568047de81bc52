import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, newIdempotencyKey } from "../api";
import { DayCard } from "../components/DayCard";
import { CancelBookingDialog, Dialog, LeaveWaitlistDialog } from "../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { useAvailabilityEvents } from "../components/useAvailabilityEvents";
import { useTitle } from "../components/useTitle";
import {
  applyAvailability, bookableWindow, buildWeek, clampWeek, mergeSlots, remainingInWeek, weekNavigation, type DayCell,
} from "../lib/calendar";
import { addDays, formatLongDate, formatMoment, formatWeekRange, todayIn, weekStart } from "../lib/dates";
import { retryTransient } from "../lib/retry";
import { KEYS, load, save } from "../lib/storage";
import { applyWaitlistEvent, refusalForWaitlist, waitlistEventText } from "../lib/waitlist";
import { useSession, useUser } from "../session";
import type { AvailabilityEvent, Booking, Office, OfficeWithSlots, WaitlistEntry, WaitlistEvent } from "../types";

interface PendingBook {
  date: string;
  parking: boolean;
  /** "book" (or a ballot request, SPEC §13), or "waitlist": queue for the full day (SPEC §12). */
  kind: "book" | "request" | "waitlist";
}

const DIALOG_TITLE: Record<PendingBook["kind"], string> = {
  book: "Book",
  request: "Request a place on",
  waitlist: "Join the waitlist for",
};
const SUBMIT_LABEL: Record<PendingBook["kind"], string> = {
  book: "Book",
  request: "Request a place",
  waitlist: "Join the waitlist",
};

/** A booking of `date` the server refused for lack of room: the day offers its waitlist. */
interface Refusal {
  date: string;
  what: "places" | "parking";
}

function OfficeChooser({ offices, onChoose }: { offices: Office[]; onChoose: (id: string) => void }) {
  return (
    <section aria-labelledby="choose-office">
      <h2 id="choose-office">Which office do you go to?</h2>
      <p>Pick it once; we will remember it on this device. You can change it at any time.</p>
      <ul className="office-choices">
        {offices.map((o) => (
          <li key={o.id}>
            <button type="button" className="button-choice" onClick={() => onChoose(o.id)}>
              <span className="choice-name">{o.name}</span>
              <span className="choice-detail">
                {o.quota} places{o.parking_quota > 0 ? ` · ${o.parking_quota} parking spaces` : " · no parking"}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function TodayCard({ bookings, offices }: { bookings: Booking[]; offices: Office[] }) {
  const todays = bookings.filter((b) => {
    if (b.status !== "active") return false;
    const tz = offices.find((o) => o.id === b.office.id)?.timezone;
    return b.date === todayIn(tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
  if (todays.length === 0) return null;
  return (
    <section className="today-card" aria-labelledby="today-title">
      <h2 id="today-title">Today</h2>
      {todays.map((b) => (
        <p key={b.id}>
          You are booked at <strong>{b.office.name}</strong>
          {b.parking ? " with a parking space" : ""}.{" "}
          <Link className="button button-primary" to={`/booking/${encodeURIComponent(b.id)}`}>
            Show my pass{" "}<span className="visually-hidden">for {b.office.name}</span>
          </Link>
        </p>
      ))}
    </section>
  );
}

export function Home() {
  useTitle("Book a place");
  const { config } = useSession();
  const user = useUser();
  const [offices, setOffices] = useState<Office[] | null>(null);
  const [officeId, setOfficeId] = useState<string | null>(() => load(KEYS.office));
  const [choosing, setChoosing] = useState(false);
  const [office, setOffice] = useState<OfficeWithSlots | null>(null);
  const [bookings, setBookings] = useState<Booking[]>([]);
  const [monday, setMonday] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<React.ReactNode>(null);
  const [busy, setBusy] = useState(false);
  const [pendingBook, setPendingBook] = useState<PendingBook | null>(null);
  const [reason, setReason] = useState("");
  const [pendingCancel, setPendingCancel] = useState<Booking | null>(null);
  const [waitlist, setWaitlist] = useState<WaitlistEntry[]>([]);
  const [pendingLeave, setPendingLeave] = useState<WaitlistEntry | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);

  const reasonRequired = Boolean(config?.reason_to_book_required) && !user.auto_approved;

  const loadBookings = useCallback(async () => {
    setBookings(await api.currentBookings({ user: user.email }));
  }, [user.email]);

  // The user's own places in the queues of full days (SPEC §12).
  const loadWaitlist = useCallback(async () => {
    setWaitlist(await api.waitlist());
  }, []);

  // When each day last changed through a live event (`office|date` -> time), so that a read that
  // was already under way does not put older counts back on the screen.
  const eventTimes = useRef(new Map<string, number>());

  const loadOffice = useCallback(async (id: string) => {
    const started = performance.now();
    const detail = await api.office(id);
    setOffice((current) => ({
      ...detail,
      slots: mergeSlots(
        detail.slots,
        current && current.id === id ? current.slots : null,
        (date) => (eventTimes.current.get(`${id}|${date}`) ?? -1) > started,
      ),
    }));
    return detail;
  }, []);

  /** After the user's own change: read now, and once more when the change has spread (reads
   * may be served from a read model that follows the writes by a moment). */
  const refreshAfterChange = useCallback(
    (id: string | null) => {
      const reread = () => {
        if (id) loadOffice(id).catch(() => undefined);
        loadBookings().catch(() => undefined);
        loadWaitlist().catch(() => undefined);
      };
      reread();
      window.setTimeout(reread, 1500);
    },
    [loadOffice, loadBookings, loadWaitlist],
  );

  // Offices, own bookings and own waitlist places, once.
  useEffect(() => {
    api.offices().then(setOffices, setError);
    loadBookings().catch(setError);
    loadWaitlist().catch(setError);
  }, [loadBookings, loadWaitlist]);

  // The chosen office must still exist (it may have been retired).
  const chosen = offices && officeId ? (offices.find((o) => o.id === officeId) ?? null) : null;
  useEffect(() => {
    if (!chosen) {
      setOffice(null);
      return;
    }
    let live = true;
    loadOffice(chosen.id).then(
      (detail) => {
        if (live) setMonday((current) => current ?? weekStart(todayIn(detail.timezone)));
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [chosen?.id]); // eslint-disable-line react-hooks/exhaustive-deps

  // Fresh data when the tab comes back to the front.
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === "visible" && office) {
        loadOffice(office.id).catch(() => undefined);
        loadBookings().catch(() => undefined);
        loadWaitlist().catch(() => undefined);
      }
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [office, loadOffice, loadBookings, loadWaitlist]);

  const onAvailability = useCallback((event: AvailabilityEvent) => {
    eventTimes.current.set(`${event.office}|${event.date}`, performance.now());
    setOffice((current) =>
      current && current.id === event.office ? { ...current, slots: applyAvailability(current.slots, event) } : current,
    );
  }, []);
  // The user's queue places, live (SPEC §12, §13): a new position at once; a promotion or a
  // draw's result turns into a booking, re-read with the lists, and is told in a notice.
  const officesRef = useRef(offices);
  officesRef.current = offices;
  const shownOfficeRef = useRef<string | null>(null);
  shownOfficeRef.current = office?.id ?? null;
  const waitlistRef = useRef(waitlist);
  waitlistRef.current = waitlist;
  const onWaitlist = useCallback(
    (event: WaitlistEvent) => {
      const { entries, known } = applyWaitlistEvent(waitlistRef.current, event);
      waitlistRef.current = entries;
      setWaitlist(entries);
      const officeName = officesRef.current?.find((o) => o.id === event.office)?.name ?? event.office;
      const text = waitlistEventText(event, officeName);
      if (text) {
        setError(null);
        setMessage(
          event.booking_id && (event.status === "promoted" || event.status === "won") ? (
            <>
              {text} <Link to={`/booking/${encodeURIComponent(event.booking_id)}`}>View pass</Link>
            </>
          ) : (
            text
          ),
        );
      }
      if (event.status !== "waiting" || event.booking_id) {
        // A booking was made (or a request decided): bookings, queue and counts change together.
        refreshAfterChange(shownOfficeRef.current === event.office ? event.office : null);
      } else if (!known) {
        loadWaitlist().catch(() => undefined);
      }
    },
    [refreshAfterChange, loadWaitlist],
  );
  useAvailabilityEvents(
    onAvailability,
    () => {
      if (office) loadOffice(office.id).catch(() => undefined);
      loadBookings().catch(() => undefined);
      loadWaitlist().catch(() => undefined);
    },
    onWaitlist,
  );

  function chooseOffice(id: string) {
    save(KEYS.office, id);
    setOfficeId(id);
    setChoosing(false);
    setMonday(null);
    setMessage(null);
    setError(null);
    setRefusal(null);
  }

  const today = office ? todayIn(office.timezone) : null;
  const bookable = useMemo(() => {
    if (!office || !today) return null;
    if (office.slots.length > 0) {
      return { first: office.slots[0].date, last: office.slots[office.slots.length - 1].date };
    }
    return bookableWindow(today, config?.advance_booking_days ?? 14);
  }, [office, today, config?.advance_booking_days]);

  const shownMonday = monday && bookable ? clampWeek(monday, bookable) : null;
  const days: DayCell[] =
    office && today && bookable && shownMonday
      ? buildWeek({ monday: shownMonday, today, window: bookable, office, slots: office.slots, bookings, waitlist })
      : [];
  const remaining = shownMonday ? remainingInWeek(bookings, shownMonday, user.quota) : 0;
  const nav = shownMonday && bookable ? weekNavigation(shownMonday, bookable) : null;

  async function book(date: string, parking: boolean, reasonText?: string) {
    if (!office) return;
    setBusy(true);
    setError(null);
    setMessage(null);
    setRefusal(null);
    try {
      const request = { user: user.email, office: office.id, date, parking, ...(reasonText ? { reason: reasonText } : {}) };
      const key = newIdempotencyKey(); // one key for every attempt: a retry never books twice
      const booking = await retryTransient(() => api.createBooking(request, key));
      setBookings((list) => [...list.filter((b) => b.id !== booking.id), booking]);
      if (booking.status === "requested") {
        // A ballot office before the day's draw (SPEC §13): a request, decided at the draw.
        const drawAt = office.slots.find((s) => s.date === date)?.draw_at;
        setMessage(
          <>
            Requested a place at {office.name} on {formatLongDate(date)}
            {parking ? " with parking" : ""}.{" "}
            {drawAt ? `Places are drawn on ${formatMoment(drawAt, office.timezone)}; you will be told the result.` : ""}
          </>,
        );
      } else {
        setMessage(
          <>
            Booked {office.name} on {formatLongDate(date)}
            {parking ? " with parking" : ""}.{" "}
            <Link to={`/booking/${encodeURIComponent(booking.id)}`}>View pass</Link>
          </>,
        );
      }
    } catch (e) {
      setError(e);
      // Full (or closed) after all: the day now offers its waitlist (SPEC §12).
      const what = refusalForWaitlist(e);
      if (what) setRefusal({ date, what });
    } finally {
      setBusy(false);
      refreshAfterChange(office.id);
    }
  }

  async function joinWaitlist(date: string, parking: boolean, reasonText?: string) {
    if (!office) return;
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const entry = await api.joinWaitlist({
        user: user.email, office: office.id, date, parking, ...(reasonText ? { reason: reasonText } : {}),
      });
      setWaitlist((list) => [...list.filter((w) => w.id !== entry.id), entry]);
      setRefusal(null);
      setMessage(
        `You are on the waitlist for ${office.name} on ${formatLongDate(date)}${parking ? " with parking" : ""}: ` +
          `position ${entry.position}. If a place frees up, it is booked for you and you are told.`,
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      refreshAfterChange(office.id);
    }
  }

  async function leaveWaitlist(entry: WaitlistEntry) {
    setPendingLeave(null);
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.leaveWaitlist(entry.id);
      setWaitlist((list) => list.filter((w) => w.id !== entry.id));
      setMessage(`You left the waitlist for ${entry.office.name} on ${formatLongDate(entry.date)}.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      refreshAfterChange(office?.id ?? null);
    }
  }

  function askFirst(date: string, parking: boolean, kind: PendingBook["kind"]) {
    if ((kind !== "request" && date === today) || reasonRequired) {
      setReason("");
      setPendingBook({ date, parking, kind });
      return true;
    }
    return false;
  }

  function requestBook(date: string, parking: boolean) {
    const ballot = days.find((d) => d.date === date)?.drawPending ?? false;
    if (!askFirst(date, parking, ballot ? "request" : "book")) void book(date, parking);
  }

  function requestJoin(date: string, parking: boolean) {
    if (!askFirst(date, parking, "waitlist")) void joinWaitlist(date, parking);
  }

  function confirmBook(event: FormEvent) {
    event.preventDefault();
    if (!pendingBook) return;
    if (reasonRequired && !reason.trim()) return;
    const { date, parking, kind } = pendingBook;
    setPendingBook(null);
    const reasonText = reasonRequired ? reason.trim() : undefined;
    if (kind === "waitlist") void joinWaitlist(date, parking, reasonText);
    else void book(date, parking, reasonText);
  }

  async function cancel(booking: Booking) {
    setPendingCancel(null);
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.cancelBooking(booking.id);
      setBookings((list) => list.filter((b) => b.id !== booking.id));
      setMessage(
        booking.status === "requested"
          ? `Cancelled your request for ${booking.office.name} on ${formatLongDate(booking.date)}.`
          : `Cancelled your booking at ${booking.office.name} on ${formatLongDate(booking.date)}.`,
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      refreshAfterChange(office?.id ?? null);
    }
  }

  if (!offices) {
    return (
      <>
        <h1>Book a place</h1>
        <ErrorNotice error={error} />
        {!error && <Loading />}
      </>
    );
  }

  const remainingText =
    remaining === 0
      ? "No bookings remaining this week"
      : `${remaining} booking${remaining === 1 ? "" : "s"} remaining this week`;

  return (
    <>
      <h1>Book a place</h1>
      <TodayCard bookings={bookings} offices={offices} />
      {offices.length === 0 ? (
        <p>No office is open for booking at the moment.</p>
      ) : !chosen || choosing ? (
        <OfficeChooser offices={offices} onChoose={chooseOffice} />
      ) : (
        <>
          <div className="office-bar">
            <p className="office-name">
              <span className="label">Office</span> <strong>{chosen.name}</strong>
            </p>
            <button type="button" className="button-link" onClick={() => setChoosing(true)}>
              Change office
            </button>
          </div>
          <SuccessNotice>{message}</SuccessNotice>
          <ErrorNotice error={error} />
          {!office || !shownMonday || !nav ? (
            <Loading />
          ) : (
            <section aria-labelledby="week-title" className="week">
              <div className="week-nav">
                <button
                  type="button"
                  className="button-secondary"
                  onClick={() => setMonday(addDays(shownMonday, -7))}
                  disabled={!nav.canGoBack}
                >
                  <span aria-hidden="true">‹ </span>Previous week
                </button>
                <h2 id="week-title" className="week-title" aria-live="polite">
                  {formatWeekRange(shownMonday)}
                </h2>
                <button
                  type="button"
                  className="button-secondary"
                  onClick={() => setMonday(addDays(shownMonday, 7))}
                  disabled={!nav.canGoForward}
                >
                  Next week<span aria-hidden="true"> ›</span>
                </button>
              </div>
              <p className={`remaining ${remaining === 0 ? "remaining-none" : ""}`} data-testid="remaining" aria-live="polite">
                {remainingText}
                {user.quota > 0 && <span className="muted"> (weekly limit {user.quota})</span>}
              </p>
              <ul className="days">
                {days.map((day) => (
                  <DayCard
                    key={day.date}
                    day={day}
                    office={office}
                    remaining={remaining}
                    busy={busy}
                    onBook={requestBook}
                    onCancel={(d) => {
                      const target = d.booking ?? d.request;
                      if (target) setPendingCancel(target);
                    }}
                    onJoinWaitlist={requestJoin}
                    onLeaveWaitlist={setPendingLeave}
                    refused={refusal?.date === day.date ? refusal.what : null}
                  />
                ))}
              </ul>
              <p className="legend muted">
                Times and dates are those of {office.name} ({office.timezone}).
              </p>
            </section>
          )}
        </>
      )}

      <Dialog
        open={pendingBook !== null}
        title={pendingBook ? `${DIALOG_TITLE[pendingBook.kind]} ${formatLongDate(pendingBook.date)}?` : "Book"}
        onClose={() => setPendingBook(null)}
      >
        {pendingBook && (
          <form onSubmit={confirmBook}>
            <p>
              {office?.name}
              {pendingBook.parking ? ", with a parking space" : ""}.
            </p>
            {pendingBook.date === today && (
              <p className="notice notice-warning">
                {pendingBook.kind === "waitlist"
                  ? "This is for today: if a place frees up and is booked for you, you will not be able to cancel it yourself."
                  : "This booking is for today: once it is made, you will not be able to cancel it yourself."}
              </p>
            )}
            {reasonRequired && (
              <>
                <label htmlFor="reason">Why do you need to go to the office?</label>
                <textarea
                  id="reason"
                  name="reason"
                  required
                  rows={3}
                  maxLength={1000}
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                  aria-describedby="reason-hint"
                />
                <p id="reason-hint" className="hint">
                  Your reason is emailed to the office team; it is not stored.
                </p>
              </>
            )}
            <div className="dialog-actions">
              <button type="button" className="button-secondary" onClick={() => setPendingBook(null)}>
                Go back
              </button>
              <button type="submit" className="button-primary" disabled={reasonRequired && !reason.trim()}>
                {SUBMIT_LABEL[pendingBook.kind]}
                {pendingBook.parking ? " with parking" : ""}
              </button>
            </div>
          </form>
        )}
      </Dialog>

      <CancelBookingDialog
        pending={pendingCancel}
        onKeep={() => setPendingCancel(null)}
        onCancel={(b) => void cancel(b)}
        request={pendingCancel?.status === "requested"}
        describe={(b) =>
          b.status === "requested" ? (
            <>
              Your request for {b.office.name} on {formatLongDate(b.date)}
              {b.parking ? " (with parking)" : ""} will be withdrawn from the draw.
            </>
          ) : (
            <>
              Your place at {b.office.name} on {formatLongDate(b.date)}
              {b.parking ? " (with parking)" : ""} will be given up.
            </>
          )
        }
      />

      <LeaveWaitlistDialog
        pending={pendingLeave}
        onStay={() => setPendingLeave(null)}
        onLeave={(w) => void leaveWaitlist(w)}
        describe={(w) => (
          <>
            You will lose your place in the queue for {w.office.name} on {formatLongDate(w.date)}.
          </>
        )}
      />
    </>
  );
}
