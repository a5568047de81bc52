import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, newIdempotencyKey } from "../api";
import { DayCard } from "../components/DayCard";
import { CancelBookingDialog, Dialog } from "../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { useAvailabilityEvents } from "../components/useAvailabilityEvents";
import { useTitle } from "../components/useTitle";
import {
  applyAvailability, bookableWindow, buildWeek, clampWeek, mergeSlots, remainingInWeek, weekNavigation, type DayCell,
} from "../lib/calendar";
import { addDays, formatLongDate, formatWeekRange, todayIn, weekStart } from "../lib/dates";
import { retryTransient } from "../lib/retry";
import { KEYS, load, save } from "../lib/storage";
import { useSession, useUser } from "../session";
import type { AvailabilityEvent, Booking, Office, OfficeWithSlots } from "../types";

interface PendingBook {
  date: string;
  parking: boolean;
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

  const reasonRequired = Boolean(config?.reason_to_book_required) && !user.auto_approved;

  const loadBookings = useCallback(async () => {
    setBookings(await api.bookings({ user: user.email }));
  }, [user.email]);

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
      };
      reread();
      window.setTimeout(reread, 1500);
    },
    [loadOffice, loadBookings],
  );

  // Offices and own bookings, once.
  useEffect(() => {
    api.offices().then(setOffices, setError);
    loadBookings().catch(setError);
  }, [loadBookings]);

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
      }
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, [office, loadOffice, loadBookings]);

  const onAvailability = useCallback((event: AvailabilityEvent) => {
    eventTimes.current.set(`${event.office}|${event.date}`, performance.now());
    setOffice((current) =>
      current && current.id === event.office ? { ...current, slots: applyAvailability(current.slots, event) } : current,
    );
  }, []);
  useAvailabilityEvents(onAvailability, () => {
    if (office) loadOffice(office.id).catch(() => undefined);
  });

  function chooseOffice(id: string) {
    save(KEYS.office, id);
    setOfficeId(id);
    setChoosing(false);
    setMonday(null);
    setMessage(null);
    setError(null);
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
      ? buildWeek({ monday: shownMonday, today, window: bookable, office, slots: office.slots, bookings })
      : [];
  const remaining = shownMonday ? remainingInWeek(bookings, shownMonday, user.quota) : 0;
  const nav = shownMonday && bookable ? weekNavigation(shownMonday, bookable) : null;

  async function book(date: string, parking: boolean, reasonText?: string) {
    if (!office) return;
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const request = { user: user.email, office: office.id, date, parking, ...(reasonText ? { reason: reasonText } : {}) };
      const key = newIdempotencyKey(); // one key for every attempt: a retry never books twice
      const booking = await retryTransient(() => api.createBooking(request, key));
      setBookings((list) => [...list.filter((b) => b.id !== booking.id), booking]);
      setMessage(
        <>
          Booked {office.name} on {formatLongDate(date)}
          {parking ? " with parking" : ""}.{" "}
          <Link to={`/booking/${encodeURIComponent(booking.id)}`}>View pass</Link>
        </>,
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      refreshAfterChange(office.id);
    }
  }

  function requestBook(date: string, parking: boolean) {
    if (date === today || reasonRequired) {
      setReason("");
      setPendingBook({ date, parking });
    } else {
      void book(date, parking);
    }
  }

  function confirmBook(event: FormEvent) {
    event.preventDefault();
    if (!pendingBook) return;
    if (reasonRequired && !reason.trim()) return;
    const { date, parking } = pendingBook;
    setPendingBook(null);
    void book(date, parking, reasonRequired ? reason.trim() : undefined);
  }

  async function cancel(booking: Booking) {
    setPendingCancel(null);
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      await api.cancelBooking(booking.id);
      setBookings((list) => list.filter((b) => b.id !== booking.id));
      setMessage(`Cancelled your booking at ${booking.office.name} on ${formatLongDate(booking.date)}.`);
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
                    onCancel={(d) => d.booking && setPendingCancel(d.booking)}
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
        title={pendingBook ? `Book ${formatLongDate(pendingBook.date)}?` : "Book"}
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
                This booking is for today: once it is made, you will not be able to cancel it yourself.
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
                {pendingBook.parking ? "Book with parking" : "Book"}
              </button>
            </div>
          </form>
        )}
      </Dialog>

      <CancelBookingDialog
        pending={pendingCancel}
        onKeep={() => setPendingCancel(null)}
        onCancel={(b) => void cancel(b)}
        describe={(b) => (
          <>
            Your place at {b.office.name} on {formatLongDate(b.date)}
              {b.parking ? " (with parking)" : ""} will be given up.
          </>
        )}
      />
    </>
  );
}
