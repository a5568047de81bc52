import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { api } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { canVerify } from "../components/Layout";
import { Loading } from "../components/Loading";
import { QrScanner } from "../components/QrScanner";
import { useTitle } from "../components/useTitle";
import { formatLongDate, formatTime } from "../lib/dates";
import { splitEmail } from "../lib/email";
import { KEYS, load, save } from "../lib/storage";
import { useUser } from "../session";
import type { Office, PassStatus, VerifyResult } from "../types";
import { NotFound } from "./NotFound";

const STATUS: Record<PassStatus, { title: string; className: string }> = {
  ok: { title: "Valid pass", className: "status-ok" },
  wrong_day: { title: "Wrong day", className: "status-warn" },
  wrong_office: { title: "Wrong office", className: "status-warn" },
  cancelled: { title: "Cancelled", className: "status-bad" },
  released: { title: "Released", className: "status-bad" },
  requested: { title: "Not drawn yet", className: "status-bad" },
  waitlisted: { title: "Not a booking", className: "status-bad" },
  invalid: { title: "Not valid", className: "status-bad" },
};

function explain(result: VerifyResult, office: Office | undefined): string {
  const b = result.booking;
  switch (result.status) {
    case "ok":
      if (result.checked_in_at && result.first_check_in === false)
        return `Already checked in at ${formatTime(result.checked_in_at, office?.timezone)}.`;
      return result.checked_in_at
        ? `Booked for today at ${office?.name ?? "this office"}. Checked in at ${formatTime(result.checked_in_at, office?.timezone)}.`
        : `Booked for today at ${office?.name ?? "this office"}.`;
    case "wrong_day":
      return b ? `This pass is for ${formatLongDate(b.date)}, not today.` : "This pass is not for today.";
    case "wrong_office":
      return result.office ? `This pass is for ${result.office.name}.` : "This pass is for another office.";
    case "cancelled":
      return "This booking was cancelled.";
    case "released":
      return "This booking was released (no check-in by the deadline, or its holder is not coming): it is not valid today.";
    case "requested":
      return "This is a ballot request that has not been drawn yet: it is not a booking.";
    case "waitlisted":
      return "This request was not drawn: its holder is on the waitlist, not booked.";
    default:
      return "This is not a genuine Office Booker pass, or it is damaged.";
  }
}

export function Verify() {
  useTitle("Verify passes");
  const user = useUser();
  const [offices, setOffices] = useState<Office[] | null>(null);
  const [officeId, setOfficeId] = useState<string>(() => load(KEYS.verifyOffice) ?? "");
  const [code, setCode] = useState("");
  const [scanning, setScanning] = useState(false);
  const [result, setResult] = useState<VerifyResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const resultRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api.offices().then(setOffices, setError);
  }, []);

  const managed = useMemo(() => {
    if (!offices) return [];
    if (user.permissions.can_manage_all_bookings) return offices;
    return offices.filter((o) => user.permissions.offices_can_manage.includes(o.id));
  }, [offices, user]);

  const office = managed.find((o) => o.id === officeId) ?? (managed.length === 1 ? managed[0] : undefined);

  if (!canVerify(user)) return <NotFound />;

  async function verify(text: string) {
    const value = text.trim();
    if (!value || !office) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.verifyPass(value, office.id));
      setCode("");
      setTimeout(() => resultRef.current?.focus(), 0);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void verify(code);
  }

  const holder = result?.booking ? splitEmail(result.booking.user) : null;
  return (
    <div className="verify-page">
      <h1>Verify passes</h1>
      {!offices && !error && <Loading />}
      {!offices && <ErrorNotice error={error} />}
      {offices && (
        <>
          <div className="field">
            <label htmlFor="verify-office">You are at</label>
            <select
              id="verify-office"
              value={office?.id ?? ""}
              onChange={(e) => {
                setOfficeId(e.target.value);
                save(KEYS.verifyOffice, e.target.value);
                setResult(null);
              }}
            >
              <option value="" disabled>
                Choose the office
              </option>
              {managed.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </div>
          <ErrorNotice error={error} />
          {result && (
            <div
              ref={resultRef}
              tabIndex={-1}
              className={`verify-result ${STATUS[result.status].className}`}
              role="status"
              data-status={result.status}
            >
              <p className="verify-status">{STATUS[result.status].title}</p>
              <p className="verify-explain">{explain(result, office)}</p>
              {holder && result.booking && (
                <div className="verify-holder">
                  <p className="pass-local">{holder.local}</p>
                  <p className="pass-domain">@{holder.domain}</p>
                  <p>
                    {result.booking.office.name} · {formatLongDate(result.booking.date)}
                    {result.booking.parking ? " · parking" : ""}
                  </p>
                </div>
              )}
            </div>
          )}
          {office && (
            <>
              {scanning ? (
                <QrScanner onCode={(text) => void verify(text)} onStop={() => setScanning(false)} />
              ) : (
                <button type="button" className="button-primary" onClick={() => setScanning(true)}>
                  Scan with camera
                </button>
              )}
              <form onSubmit={submit} className="paste-form">
                <label htmlFor="pass-code">Or paste the pass code</label>
                <textarea
                  id="pass-code"
                  rows={2}
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  autoComplete="off"
                  spellCheck={false}
                />
                <button type="submit" className="button-primary" disabled={busy || !code.trim()}>
                  Verify
                </button>
              </form>
            </>
          )}
        </>
      )}
    </div>
  );
}
