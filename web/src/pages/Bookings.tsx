import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";
import { api } from "../api";
import { CancelBookingDialog } from "../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { useTitle } from "../components/useTitle";
import { ownerCanCancel, splitByDate } from "../lib/calendar";
import { formatLongDate, formatTime, todayIn } from "../lib/dates";
import { useUser } from "../session";
import { useOfficeZone } from "../components/useOfficeZone";
import type { Booking } from "../types";

function BookingItem({ booking, onCancel, zone }: { booking: Booking; onCancel?: (b: Booking) => void; zone?: string }) {
  return (
    <li className="booking-item" data-booking={booking.id}>
      <div>
        <p className="booking-date">{formatLongDate(booking.date)}</p>
        <p className="booking-meta">
          {booking.office.name}
          {booking.parking ? " · parking" : ""}
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
            Cancel{" "}<span className="visually-hidden">booking on {formatLongDate(booking.date)}</span>
          </button>
        )}
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
  const zoneOf = useOfficeZone();

  const reload = useCallback(() => {
    return api.bookings({ user: user.email }).then(setBookings, setError);
  }, [user.email]);

  useEffect(() => {
    void reload();
  }, [reload]);

  async function cancel(booking: Booking) {
    setPending(null);
    setError(null);
    try {
      await api.cancelBooking(booking.id);
      setMessage(`Cancelled your booking at ${booking.office.name} on ${formatLongDate(booking.date)}.`);
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
          </section>
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
        describe={(b) => (
          <>
            Your place at {b.office.name} on {formatLongDate(b.date)} will be given up.
          </>
        )}
      />
    </>
  );
}
