import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { api } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { ConfirmDialog } from "../components/Dialog";
import { QrCode } from "../components/QrCode";
import { useOfficeZone } from "../components/useOfficeZone";
import { useTitle } from "../components/useTitle";
import { checkinApi } from "../lib/checkinApi";
import { formatDate, formatDateTime, todayIn, weekdayName } from "../lib/dates";
import { splitEmail } from "../lib/email";
import type { Pass } from "../types";

export function PassCard({ pass, zone }: { pass: Pass; zone?: string }) {
  const { booking, code } = pass;
  const { local, domain } = splitEmail(booking.user);
  const cancelled = booking.status !== "active";
  return (
    <article className={`pass ${cancelled ? "pass-cancelled" : ""}`} aria-label="Office pass">
      {cancelled && <p className="pass-status">{booking.status === "released" ? "Released" : "Cancelled"}</p>}
      <p className="pass-weekday">{weekdayName(booking.date)}</p>
      <p className="pass-date">{formatDate(booking.date)}</p>
      <p className="pass-office">{booking.office.name}</p>
      <p className="pass-parking">{booking.parking ? "Parking space included" : "No parking"}</p>
      <div className="pass-holder">
        <p className="pass-local">{local}</p>
        <p className="pass-domain">@{domain}</p>
      </div>
      <QrCode value={code} label={`QR code of the pass for ${booking.user} on ${formatDate(booking.date)}`} />
      {booking.checked_in_at && (
        <p className="pass-checked-in">Checked in {formatDateTime(booking.checked_in_at, zone)}</p>
      )}
    </article>
  );
}

export function PassPage() {
  const { id = "" } = useParams();
  const [pass, setPass] = useState<Pass | null>(null);
  const [error, setError] = useState<unknown>(null);
  const zoneOf = useOfficeZone();
  const [releasing, setReleasing] = useState(false);
  const [busy, setBusy] = useState(false);
  useTitle(pass ? `Pass for ${weekdayName(pass.booking.date)} ${formatDate(pass.booking.date)}` : "Pass");

  useEffect(() => {
    let live = true;
    setPass(null);
    setError(null);
    api.pass(id).then(
      (p) => live && setPass(p),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [id]);

  const zone = pass ? zoneOf(pass.booking.office.id) : undefined;
  const releasable = !!pass && pass.booking.status === "active" && !!zone && pass.booking.date === todayIn(zone);
  const release = () => {
    if (!pass) return;
    setBusy(true);
    setError(null);
    checkinApi.release(pass.booking.id).then(
      (booking) => {
        setPass({ ...pass, booking });
        setReleasing(false);
        setBusy(false);
      },
      (e) => {
        setError(e);
        setReleasing(false);
        setBusy(false);
      },
    );
  };

  return (
    <div className="pass-page">
      <h1 className="no-print">Your pass</h1>
      <ErrorNotice error={error} />
      {!pass && !error && <Loading />}
      {pass && (
        <>
          <p className="no-print">Show this pass at the door. Security checks the name and scans the code.</p>
          <PassCard pass={pass} zone={zoneOf(pass.booking.office.id)} />
          <div className="row-actions no-print">
            <button type="button" className="button-primary" onClick={() => window.print()}>
              Print pass
            </button>
            {releasable && (
              <button type="button" className="button-danger-outline" onClick={() => setReleasing(true)}>
                I'm not coming
              </button>
            )}
            <Link to="/bookings">My bookings</Link>
          </div>
          <ConfirmDialog
            open={releasing}
            title="Release your place?"
            confirmLabel="Release my place"
            cancelLabel="Keep it"
            danger
            busy={busy}
            onConfirm={release}
            onCancel={() => setReleasing(false)}
          >
            <p>Your place{pass.booking.parking ? " and parking space" : ""} today goes to someone else. This cannot be undone.</p>
          </ConfirmDialog>
          <details className="no-print pass-code">
            <summary>Pass code (if the QR code cannot be scanned)</summary>
            <code data-testid="pass-code">{pass.code}</code>
          </details>
        </>
      )}
    </div>
  );
}
