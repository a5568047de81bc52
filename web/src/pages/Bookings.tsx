import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { api } from "../api";
import { CalendarFeed } from "../components/CalendarFeed";
import { CancelBookingDialog, LeaveWaitlistDialog } from "../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { RangeCancel } from "../components/RangeCancel";
import { useTitle } from "../components/useTitle";
import { ownerCanCancel, splitByDate } from "../lib/calendar";
import { formatDateTime, formatLongDate, formatTime, todayIn } from "../lib/dates";
import { applyWaitlistEvent, positionText, waitlistEventText } from "../lib/waitlist";
import { useUser } from "../session";
import { useAvailabilityEvents } from "../components/useAvailabilityEvents";
import { useOfficeZone } from "../components/useOfficeZone";
import type { Booking, WaitlistEntry, WaitlistEvent } from "../types";

function BookingItem({ booking, onCancel, zone }: { booking: Booking; onCancel?: (b: Booking) => void; zone?: string }) {
  const requested = booking.status === "requested";
  return (
    <li className="booking-item" data-booking={booking.id}>
      <div>
        <p className="booking-date">
          {formatLongDate(booking.date)}
          {requested && <> <span className="badge badge-requested">Requested</span></>}
        </p>
        <p className="booking-meta">
          {booking.office.name}
          {booking.parking ? " · parking" : ""}
          {requested ? " · a request: places are given by a draw before the day" : ""}
          {booking.created_by === "waitlist" ? " · from the waitlist" : ""}
          {booking.status === "cancelled" ? " · cancelled" : ""}
          {booking.checked_in_at ? ` · checked in ${formatTime(booking.checked_in_at, zone)}` : ""}
        </p>
      </div>
      <div className="row-actions">
        {booking.status === "active" && (
          <Link className="button button-secondary" to={`/booking/${encodeURIComponent(booking.id)}`}>
            Pass{" "}<span className="visually-hidden">for {formatLongDate(booking.date)}</span>
          </Link>
        )}
        {onCancel && ownerCanCancel(booking) && (
          <button type="button" className="button-danger-outline" onClick={() => onCancel(booking)}>
            {requested ? "Cancel request" : "Cancel"}{" "}
            <span className="visually-hidden">{requested ? "for" : "booking on"} {formatLongDate(booking.date)}</span>
          </button>
        )}
      </div>
    </li>
  );
}

function WaitlistItem({ entry, onLeave, zone }: { entry: WaitlistEntry; onLeave: (w: WaitlistEntry) => void; zone?: string }) {
  return (
    <li className="booking-item" data-waitlist={entry.id}>
      <div>
        <p className="booking-date">
          {formatLongDate(entry.date)} <span className="badge badge-waitlist">Waitlist</span>
        </p>
        <p className="booking-meta">
          <strong>{positionText(entry)}</strong> · {entry.office.name}
          {entry.parking ? " · parking" : ""} · joined {formatDateTime(entry.created_at, zone)}
        </p>
      </div>
      <div className="row-actions">
        <button type="button" className="button-danger-outline" onClick={() => onLeave(entry)}>
          Leave the waitlist{" "}<span className="visually-hidden">for {formatLongDate(entry.date)}</span>
        </button>
      </div>
    </li>
  );
}

export function Bookings() {
  useTitle("My bookings");
  const user = useUser();
  const [bookings, setBookings] = useState<Booking[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, setPending] = useState<Booking | null>(null);
  const [waitlist, setWaitlist] = useState<WaitlistEntry[] | null>(null);
  const [leaving, setLeaving] = useState<WaitlistEntry | null>(null);
  const zoneOf = useOfficeZone();

  const reload = useCallback(() => {
    return Promise.all([
      api.currentBookings({ user: user.email }).then(setBookings, setError),
      api.waitlist().then(setWaitlist, setError),
    ]);
  }, [user.email]);

  // Positions and promotions, live (SPEC §12): the lists are read again when a place changes hands.
  const waitlistRef = useRef(waitlist);
  waitlistRef.current = waitlist;
  const bookingsRef = useRef(bookings);
  bookingsRef.current = bookings;
  const onWaitlist = useCallback(
    (event: WaitlistEvent) => {
      const before = waitlistRef.current ?? [];
      const { entries, known } = applyWaitlistEvent(before, event);
      waitlistRef.current = entries;
      setWaitlist(entries);
      const offices = [...before, ...(bookingsRef.current ?? [])].map((x) => x.office);
      const name = offices.find((o) => o.id === event.office)?.name ?? event.office;
      const text = waitlistEventText(event, name);
      if (text) setMessage(text);
      if (!known || event.status !== "waiting" || event.booking_id) void reload();
    },
    [reload],
  );
  useAvailabilityEvents(null, () => void reload(), onWaitlist);

  useEffect(() => {
    void reload();
  }, [reload]);

  async function cancel(booking: Booking) {
    setPending(null);
    setError(null);
    try {
      await api.cancelBooking(booking.id);
      setMessage(
        booking.status === "requested"
          ? `Cancelled your request for ${booking.office.name} on ${formatLongDate(booking.date)}.`
          : `Cancelled your booking at ${booking.office.name} on ${formatLongDate(booking.date)}.`,
      );
    } catch (e) {
      setError(e);
    }
    await reload();
  }

  async function leave(entry: WaitlistEntry) {
    setLeaving(null);
    setError(null);
    try {
      await api.leaveWaitlist(entry.id);
      setMessage(`You left the waitlist for ${entry.office.name} on ${formatLongDate(entry.date)}.`);
    } catch (e) {
      setError(e);
    }
    await reload();
  }

  const today = todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone);
  const { upcoming, previous } = splitByDate(bookings ?? [], today);
  return (
    <>
      <h1>My bookings</h1>
      <SuccessNotice>{message}</SuccessNotice>
      <ErrorNotice error={error} />
      {!bookings && !error && <Loading />}
      {bookings && (
        <>
          <section aria-labelledby="upcoming-title">
            <h2 id="upcoming-title">Upcoming</h2>
            {upcoming.length === 0 ? (
              <p>
                No upcoming bookings. <Link to="/">Book a place</Link>
              </p>
            ) : (
              <ul className="booking-list">
                {upcoming.map((b) => (
                  <BookingItem key={b.id} booking={b} onCancel={setPending} zone={zoneOf(b.office.id)} />
                ))}
              </ul>
            )}
            <p className="hint">
              Going in on the same days every week? <Link to="/regular-days">Set your regular days</Link>.
            </p>
          </section>
          <section aria-labelledby="waitlist-title">
            <h2 id="waitlist-title">Waitlists</h2>
            {!waitlist || waitlist.length === 0 ? (
              <p>You are not waiting for a place on any day.</p>
            ) : (
              <ul className="booking-list waitlist-list">
                {[...waitlist]
                  .sort((a, b) => a.date.localeCompare(b.date) || a.office.name.localeCompare(b.office.name))
                  .map((w) => (
                    <WaitlistItem key={w.id} entry={w} onLeave={setLeaving} zone={zoneOf(w.office.id)} />
                  ))}
              </ul>
            )}
          </section>
          <RangeCancel bookings={bookings} onDone={() => void reload()} />
          <CalendarFeed />
          <section aria-labelledby="previous-title">
            <h2 id="previous-title">Previous</h2>
            {previous.length === 0 ? (
              <p>No previous bookings.</p>
            ) : (
              <ul className="booking-list">
                {previous.map((b) => (
                  <BookingItem key={b.id} booking={b} zone={zoneOf(b.office.id)} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
      <CancelBookingDialog
        pending={pending}
        onKeep={() => setPending(null)}
        onCancel={(b) => void cancel(b)}
        request={pending?.status === "requested"}
        describe={(b) =>
          b.status === "requested" ? (
            <>
              Your request for {b.office.name} on {formatLongDate(b.date)} will be withdrawn from the draw.
            </>
          ) : (
            <>
              Your place at {b.office.name} on {formatLongDate(b.date)} will be given up.
            </>
          )
        }
      />
      <LeaveWaitlistDialog
        pending={leaving}
        onStay={() => setLeaving(null)}
        onLeave={(w) => void leave(w)}
        describe={(w) => (
          <>
            You will lose your place in the queue for {w.office.name} on {formatLongDate(w.date)}.
          </>
        )}
      />
    </>
  );
}
