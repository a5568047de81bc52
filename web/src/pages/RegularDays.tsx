// Regular office days (SPEC §14): the same weekdays every week at one office, each booked (or, at
// a ballot office, requested) when it enters the booking window, under every booking rule. What
// was booked and what was refused, and why, is listed with each pattern.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api } from "../api";
import { ConfirmDialog } from "../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../components/ErrorNotice";
import { Loading } from "../components/Loading";
import { useTitle } from "../components/useTitle";
import { formatDate, formatLongDate, todayIn } from "../lib/dates";
import { describeWeekdays, RESULT_LABEL, sortResults, summariseResults, WEEKDAYS } from "../lib/regular";
import { KEYS, load } from "../lib/storage";
import { useSession, useUser } from "../session";
import type { Office, OccurrenceResult, RecurringPattern } from "../types";

const BADGE: Record<OccurrenceResult["status"], string> = {
  booked: "badge-booked",
  requested: "badge-requested",
  refused: "badge-refused",
  pending: "badge-pending",
};

function ResultItem({ result }: { result: OccurrenceResult }) {
  return (
    <li className={`result result-${result.status}`} data-date={result.date}>
      <span className="result-date">{formatLongDate(result.date)}</span>{" "}
      <span className={`badge ${BADGE[result.status]}`}>{RESULT_LABEL[result.status]}</span>
      {result.status === "refused" && result.message && <span className="result-reason">: {result.message}</span>}
      {result.status === "booked" && result.booking_id && (
        <>
          {" "}
          <Link to={`/booking/${encodeURIComponent(result.booking_id)}`}>
            Pass<span className="visually-hidden"> for {formatLongDate(result.date)}</span>
          </Link>
        </>
      )}
    </li>
  );
}

function PatternItem({ pattern, officeName, onStop }: {
  pattern: RecurringPattern;
  officeName: string;
  onStop: (p: RecurringPattern) => void;
}) {
  const title = `${describeWeekdays(pattern.weekdays)} at ${officeName}`;
  const results = sortResults(pattern.last_results);
  return (
    <li className="card pattern" data-pattern={pattern.id}>
      <h3>{title}</h3>
      <p className="booking-meta">
        {pattern.parking ? "With a parking space" : "Without parking"} ·{" "}
        {pattern.until ? `until ${formatDate(pattern.until)}` : "no end date"}
      </p>
      <p className="pattern-summary">{summariseResults(results)}</p>
      {results.length > 0 && (
        <ul className="result-list" aria-label={`Days of ${title}`}>
          {results.map((r) => (
            <ResultItem key={r.date} result={r} />
          ))}
        </ul>
      )}
      <div className="row-actions">
        <button type="button" className="button-danger-outline" onClick={() => onStop(pattern)}>
          Stop these regular days<span className="visually-hidden">: {title}</span>
        </button>
      </div>
    </li>
  );
}

export function RegularDays() {
  useTitle("Regular days");
  const { config } = useSession();
  const user = useUser();
  const [offices, setOffices] = useState<Office[] | null>(null);
  const [patterns, setPatterns] = useState<RecurringPattern[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [weekdays, setWeekdays] = useState<number[]>([]);
  const [officeId, setOfficeId] = useState("");
  const [parking, setParking] = useState(false);
  const [until, setUntil] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [stopError, setStopError] = useState<unknown>(null);
  const [stopMessage, setStopMessage] = useState<string | null>(null);
  const [stopping, setStopping] = useState<RecurringPattern | null>(null);

  const reasonRequired = Boolean(config?.reason_to_book_required) && !user.auto_approved;
  const days = config?.advance_booking_days ?? 14;

  const reload = useCallback(() => api.recurring().then(setPatterns, setLoadError), []);

  useEffect(() => {
    void reload();
    api.offices().then((list) => {
      setOffices(list);
      // The office picked on the home screen, when it is still open.
      const remembered = load(KEYS.office);
      setOfficeId((current) => current || (list.find((o) => o.id === remembered) ?? list[0])?.id || "");
    }, setLoadError);
  }, [reload]);

  const office = offices?.find((o) => o.id === officeId) ?? null;
  const noParking = office !== null && office.parking_quota <= 0;
  const nameOf = (id: string) => offices?.find((o) => o.id === id)?.name ?? id;

  function toggle(iso: number, on: boolean) {
    setWeekdays((current) => (on ? [...current.filter((d) => d !== iso), iso] : current.filter((d) => d !== iso)).sort((a, b) => a - b));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setMessage(null);
    setStopMessage(null);
    try {
      const created = await api.createRecurring({
        office: officeId,
        weekdays,
        parking: parking && !noParking,
        until: until || null,
        ...(reasonRequired ? { reason: reason.trim() } : {}),
      });
      setMessage(
        `Regular days set: ${describeWeekdays(created.weekdays)} at ${nameOf(created.office)}. ` +
          summariseResults(created.last_results),
      );
      setWeekdays([]);
      setUntil("");
      setReason("");
      setPatterns((current) => [...(current ?? []).filter((p) => p.id !== created.id), created]);
    } catch (e2) {
      setError(e2);
    } finally {
      setBusy(false);
    }
  }

  async function stop(pattern: RecurringPattern) {
    setStopping(null);
    setStopError(null);
    setStopMessage(null);
    setMessage(null);
    try {
      await api.deleteRecurring(pattern.id);
      setStopMessage(
        `Stopped: ${describeWeekdays(pattern.weekdays)} at ${nameOf(pattern.office)}. The bookings already made stay.`,
      );
    } catch (e) {
      setStopError(e);
    }
    await reload();
  }

  const today = office ? todayIn(office.timezone) : undefined;
  return (
    <>
      <h1>Regular days</h1>
      <p className="prose">
        Go in on the same days every week? Set them once: each day is booked when it comes within the {days}-day booking
        window, under the usual rules. A day that cannot be booked (the office is full, or you have reached your weekly
        limit) is listed below with the reason and emailed to you; it is not tried again. Your bookings are on{" "}
        <Link to="/bookings">My bookings</Link>.
      </p>
      <ErrorNotice error={loadError} />
      <section aria-labelledby="new-pattern-title" className="card">
        <h2 id="new-pattern-title">Set regular days</h2>
        {!offices && !loadError && <Loading />}
        {offices && (
          <form onSubmit={submit}>
            <fieldset>
              <legend>Days of the week</legend>
              <div className="weekday-choices">
                {WEEKDAYS.map((d) => (
                  <div className="field-check" key={d.iso}>
                    <input
                      id={`weekday-${d.iso}`}
                      type="checkbox"
                      checked={weekdays.includes(d.iso)}
                      onChange={(e) => toggle(d.iso, e.target.checked)}
                    />
                    <label htmlFor={`weekday-${d.iso}`}>{d.name}</label>
                  </div>
                ))}
              </div>
            </fieldset>
            <div className="field">
              <label htmlFor="pattern-office">Office</label>
              <select id="pattern-office" value={officeId} required onChange={(e) => setOfficeId(e.target.value)}>
                {offices.map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
              </select>
            </div>
            <div className="field-check">
              <input
                id="pattern-parking"
                type="checkbox"
                checked={parking && !noParking}
                disabled={noParking}
                onChange={(e) => setParking(e.target.checked)}
                aria-describedby={noParking ? "pattern-parking-hint" : undefined}
              />
              <label htmlFor="pattern-parking">Also book a parking space</label>
            </div>
            {noParking && (
              <p id="pattern-parking-hint" className="hint">
                {office?.name} has no parking.
              </p>
            )}
            <div className="field">
              <label htmlFor="pattern-until">Until (optional)</label>
              <input
                id="pattern-until"
                type="date"
                value={until}
                min={today}
                onChange={(e) => setUntil(e.target.value)}
                aria-describedby="pattern-until-hint"
              />
              <p id="pattern-until-hint" className="hint">
                The last day to book. Leave it empty to go on until you stop them.
              </p>
            </div>
            {reasonRequired && (
              <div className="field">
                <label htmlFor="pattern-reason">Why do you need to go to the office?</label>
                <textarea
                  id="pattern-reason"
                  required
                  rows={3}
                  maxLength={1000}
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                  aria-describedby="pattern-reason-hint"
                />
                <p id="pattern-reason-hint" className="hint">
                  Your reason is emailed to the office team with each day booked.
                </p>
              </div>
            )}
            <button type="submit" className="button-primary" disabled={busy}>
              Set regular days
            </button>
          </form>
        )}
        <SuccessNotice>{message}</SuccessNotice>
        <ErrorNotice error={error} title="Regular days not set" />
      </section>
      <section aria-labelledby="patterns-title">
        <h2 id="patterns-title">Your regular days</h2>
        <SuccessNotice>{stopMessage}</SuccessNotice>
        <ErrorNotice error={stopError} />
        {!patterns && !loadError && <Loading />}
        {patterns && patterns.length === 0 && <p>You have no regular days.</p>}
        {patterns && patterns.length > 0 && (
          <ul className="pattern-list">
            {patterns.map((p) => (
              <PatternItem key={p.id} pattern={p} officeName={nameOf(p.office)} onStop={setStopping} />
            ))}
          </ul>
        )}
      </section>
      <ConfirmDialog
        open={stopping !== null}
        title="Stop these regular days?"
        confirmLabel="Stop regular days"
        cancelLabel="Keep regular days"
        danger
        onCancel={() => setStopping(null)}
        onConfirm={() => stopping && void stop(stopping)}
      >
        {stopping && (
          <p>
            {describeWeekdays(stopping.weekdays)} at {nameOf(stopping.office)} will no longer be booked. The bookings
            already made stay: cancel them on My bookings if you no longer need them.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}
