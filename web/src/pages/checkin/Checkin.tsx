import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { useOfficeZone } from "../../components/useOfficeZone";
import { useTitle } from "../../components/useTitle";
import { checkinApi, type CheckinResult } from "../../lib/checkinApi";
import { formatLongDate, formatTime } from "../../lib/dates";
import "./checkin.css";

/** What a phone opens from the kiosk's QR code (SPEC §11): checks the signed-in user in. */
export function Checkin() {
  const [params] = useSearchParams();
  const code = params.get("code") ?? "";
  const [result, setResult] = useState<CheckinResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const sent = useRef("");
  const zoneOf = useOfficeZone();
  useTitle(result ? "Checked in" : "Check in");

  useEffect(() => {
    if (!code || sent.current === code) return;
    sent.current = code; // once per code (React may run effects twice in development)
    checkinApi.checkIn(code).then(setResult, setError);
  }, [code]);

  if (!code) {
    return (
      <section className="checkin">
        <h1>Check in</h1>
        <p>Scan the code on the screen at reception with your phone's camera.</p>
      </section>
    );
  }
  return (
    <section className="checkin" aria-live="polite">
      {!result && !error && <Loading />}
      {error != null && (
        <>
          <h1>Not checked in</h1>
          <ErrorNotice error={error} title="Check-in failed" />
          <p>
            If the code expired, scan the screen again. <Link to="/bookings">My bookings</Link>
          </p>
        </>
      )}
      {result && (
        <div className="checkin-ok" data-testid="checkin-result">
          <h1>{result.first_check_in ? "You are checked in" : "Already checked in"}</h1>
          <p className="checkin-office">{result.booking.office.name}</p>
          <p>{formatLongDate(result.booking.date)}</p>
          <p>
            Checked in at {formatTime(result.booking.checked_in_at, zoneOf(result.booking.office.id))}
            {result.booking.parking ? ", with a parking space" : ""}.
          </p>
          <Link to={`/booking/${result.booking.id}/pass`}>Show my pass</Link>
        </div>
      )}
    </section>
  );
}
