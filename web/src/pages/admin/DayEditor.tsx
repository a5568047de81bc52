// The admin's editor of one office-day (SPEC §15): its own quota and parking quota, closed with a
// note, and, when closing, whether to cancel the bookings already made (after a confirmation).
import { useEffect, useState, type FormEvent } from "react";
import { api } from "../../api";
import { ConfirmDialog } from "../../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../../components/ErrorNotice";
import { formatLongDate } from "../../lib/dates";
import type { Day, Office } from "../../types";

interface Props {
  office: Office;
  date: string;
  /** Called after a change, so the page re-reads its bookings. */
  onChanged: (day: Day) => void;
  /** Called with the day whenever it is read or saved (the page's summary shows its capacity). */
  onDay?: (day: Day) => void;
}

const asNumber = (text: string): number | null => (text.trim() === "" ? null : Number(text));

export function DayEditor({ office, date, onChanged, onDay }: Props) {
  const [day, setDay] = useState<Day | null>(null);
  const [quota, setQuota] = useState("");
  const [parking, setParking] = useState("");
  const [closed, setClosed] = useState(false);
  const [note, setNote] = useState("");
  const [cancelExisting, setCancelExisting] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);

  function show(d: Day) {
    setDay(d);
    onDay?.(d);
    setQuota(d.overridden && d.quota !== office.quota ? String(d.quota) : "");
    setParking(d.overridden && d.parking_quota !== office.parking_quota ? String(d.parking_quota) : "");
    setClosed(d.closed);
    setNote(d.note ?? "");
    setCancelExisting(false);
  }

  useEffect(() => {
    let live = true;
    setDay(null);
    setError(null);
    setMessage(null);
    api.day(office.id, date).then((d) => live && show(d), (e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [office.id, date]); // eslint-disable-line react-hooks/exhaustive-deps

  async function save() {
    setConfirming(false);
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const saved = await api.setDay(office.id, date, {
        quota: asNumber(quota),
        parking_quota: asNumber(parking),
        closed,
        note: note.trim() || null,
        ...(closed && cancelExisting ? { cancel_existing: true } : {}),
      });
      show(saved);
      setMessage(
        saved.cancelled > 0
          ? `Saved. ${saved.cancelled} booking${saved.cancelled === 1 ? " was" : "s were"} cancelled and the holders emailed.`
          : "Saved.",
      );
      onChanged(saved);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function reset() {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const cleared = await api.clearDay(office.id, date);
      show(cleared);
      setMessage("The day has the office's own capacity again.");
      onChanged(cleared);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (closed && cancelExisting && (day?.booked ?? 0) > 0) setConfirming(true);
    else void save();
  }

  return (
    <form className="card day-editor" onSubmit={submit} aria-labelledby="day-editor-title">
      <h2 id="day-editor-title">This day at {office.name}</h2>
      {day && (
        <p className="day-state" data-testid="day-state">
          {day.closed ? <strong>Closed. </strong> : null}
          {day.quota} places, {day.parking_quota} parking spaces
          {day.overridden ? " (changed for this day)" : " (the office's usual capacity)"} · {day.booked} booked
        </p>
      )}
      <div className="field-row">
        <div className="field">
          <label htmlFor="de-quota">Places this day</label>
          <input id="de-quota" type="number" min={0} max={100000} inputMode="numeric" value={quota}
            placeholder={String(office.quota)} aria-describedby="de-quota-hint" onChange={(e) => setQuota(e.target.value)} />
          <p id="de-quota-hint" className="hint">Empty: the office's {office.quota}.</p>
        </div>
        <div className="field">
          <label htmlFor="de-parking">Parking spaces this day</label>
          <input id="de-parking" type="number" min={0} max={100000} inputMode="numeric" value={parking}
            placeholder={String(office.parking_quota)} aria-describedby="de-parking-hint" onChange={(e) => setParking(e.target.value)} />
          <p id="de-parking-hint" className="hint">Empty: the office's {office.parking_quota}.</p>
        </div>
      </div>
      <p className="hint">Lowering below what is booked keeps those bookings; it only stops new ones.</p>
      <div className="field-check">
        <input id="de-closed" type="checkbox" checked={closed} onChange={(e) => setClosed(e.target.checked)} />
        <label htmlFor="de-closed">Office closed this day</label>
      </div>
      <div className="field">
        <label htmlFor="de-note">Note shown to everyone booking this day</label>
        <textarea id="de-note" rows={2} maxLength={500} value={note} onChange={(e) => setNote(e.target.value)} />
      </div>
      {closed && (
        <div className="field-check">
          <input id="de-cancel" type="checkbox" checked={cancelExisting} onChange={(e) => setCancelExisting(e.target.checked)} />
          <label htmlFor="de-cancel">Cancel the bookings already made for this day (each person is emailed the note)</label>
        </div>
      )}
      <SuccessNotice>{message}</SuccessNotice>
      <ErrorNotice error={error} />
      <div className="dialog-actions">
        {day?.overridden && (
          <button type="button" className="button-secondary" onClick={() => void reset()} disabled={busy}>
            Back to the usual capacity
          </button>
        )}
        <button type="submit" className="button-primary" disabled={busy || !day}>
          Save this day
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Close the day and cancel its bookings?"
        confirmLabel="Close and cancel bookings"
        cancelLabel="Go back"
        danger
        busy={busy}
        onCancel={() => setConfirming(false)}
        onConfirm={() => void save()}
      >
        <p>
          {office.name} will be closed on {formatLongDate(date)}. The {day?.booked ?? 0} booking
          {(day?.booked ?? 0) === 1 ? "" : "s"} already made will be cancelled and each person emailed
          {note.trim() ? " your note" : ""}.
        </p>
      </ConfirmDialog>
    </form>
  );
}
