import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { useTitle } from "../../components/useTitle";
import { checkinApi } from "../../lib/checkinApi";
import { formatLongDate } from "../../lib/dates";
import type { Booking } from "../../types";
import "./checkin.css";

/** The confirmation mail's "I'm not coming" link (SPEC §11): no sign-in; opening it shows the
 * booking and releases nothing (mail scanners open links) until the holder confirms. */
export function Release() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const [booking, setBooking] = useState<Booking | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  useTitle("Release your place");

  useEffect(() => {
    if (!token) return;
    checkinApi.releaseLink(token).then(setBooking, setError);
  }, [token]);

  const confirm = () => {
    setBusy(true);
    setError(null);
    checkinApi.useReleaseLink(token).then(
      (b) => {
        setBooking(b);
        setDone(true);
        setBusy(false);
      },
      (e) => {
        setError(e);
        setBusy(false);
      },
    );
  };

  return (
    <section className="checkin release" aria-live="polite">
      <h1>Release your place</h1>
      <ErrorNotice error={error} />
      {!token && <p>This link is incomplete. Open it again from your confirmation email.</p>}
      {token && !booking && !error && <Loading />}
      {booking && (
        <>
          <p className="checkin-office">{booking.office.name}</p>
          <p>{formatLongDate(booking.date)}</p>
          {booking.status === "released" ? (
            <p className="status-ok" data-testid="release-done">
              {done ? "Done: your place is released for someone else. Thank you." : "This place is already released."}
            </p>
          ) : booking.status === "cancelled" ? (
            <p>This booking was cancelled.</p>
          ) : (
            <>
              <p>Not coming? Releasing frees your place (and parking space) for a colleague. It cannot be undone.</p>
              <button type="button" className="button-danger" onClick={confirm} disabled={busy}>
                {busy ? "Releasing…" : "Yes, release my place"}
              </button>
            </>
          )}
        </>
      )}
    </section>
  );
}
