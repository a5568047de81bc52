import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { api, type OfficeFields } from "../../api";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../../components/ErrorNotice";
import { TableWrap } from "../../components/TableWrap";
import { Loading } from "../../components/Loading";
import { useTitle } from "../../components/useTitle";
import { isValidTimeZone } from "../../lib/dates";
import { useUser } from "../../session";
import type { Allocation, Office } from "../../types";
import { NotFound } from "../NotFound";

function timeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}

interface FormValues {
  id: string;
  name: string;
  quota: string;
  parking_quota: string;
  timezone: string;
  check_in_deadline: string; // "HH:MM" or "" (none: no automatic release, SPEC §11)
  allocation: Allocation; // SPEC §13
  ballot_draw_days_before: string;
  ballot_draw_time: string; // "HH:MM" office time
}

const NEW_OFFICE_BALLOT = { allocation: "first_come" as Allocation, ballot_draw_days_before: "7", ballot_draw_time: "12:00" };

/** "Ballot: drawn 7 days before at 12:00" or "First come" */
export function allocationText(office: Pick<Office, "allocation" | "ballot_draw_days_before" | "ballot_draw_time">): string {
  if (office.allocation !== "ballot") return "First come";
  const days = office.ballot_draw_days_before ?? 7;
  return `Ballot: drawn ${days} day${days === 1 ? "" : "s"} before at ${office.ballot_draw_time ?? "12:00"}`;
}

function validate(values: FormValues, creating: boolean): string | null {
  if (creating && !/^[a-z0-9-]+$/.test(values.id)) return "The id uses only lower-case letters, digits and dashes.";
  if (!values.name.trim()) return "Give the office a name.";
  const quota = Number(values.quota);
  if (!Number.isInteger(quota) || quota < 0 || quota > 100000) return "Places per day is a whole number from 0 to 100000.";
  const parking = Number(values.parking_quota);
  if (!Number.isInteger(parking) || parking < 0) return "Parking spaces is a whole number, 0 or more.";
  if (!isValidTimeZone(values.timezone)) return "Choose a time zone from the list, like Europe/London.";
  if (values.check_in_deadline && !/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(values.check_in_deadline))
    return "The check-in deadline is a time like 10:00, or empty for none.";
  if (values.allocation === "ballot") {
    const days = Number(values.ballot_draw_days_before);
    if (!Number.isInteger(days) || days < 1 || days > 365) return "Draw days before is a whole number from 1 to 365.";
    if (!/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(values.ballot_draw_time)) return "The draw time is a time like 12:00.";
  }
  return null;
}

function OfficeForm({
  initial,
  creating,
  submitLabel,
  onSubmit,
  idPrefix,
}: {
  initial: FormValues;
  creating: boolean;
  submitLabel: string;
  onSubmit: (fields: OfficeFields) => Promise<void>;
  idPrefix: string;
}) {
  const [values, setValues] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const zones = useMemo(timeZones, []);
  const set = (key: keyof FormValues) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setValues({ ...values, [key]: e.target.value });

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = validate(values, creating);
    if (problem) {
      setError(new Error(problem));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const fields: OfficeFields & { check_in_deadline: string | null } = {
        ...(creating ? { id: values.id } : {}),
        name: values.name.trim(),
        quota: Number(values.quota),
        parking_quota: Number(values.parking_quota),
        timezone: values.timezone,
        check_in_deadline: values.check_in_deadline || null,
        allocation: values.allocation,
        // A first-come office keeps its draw settings for when the ballot is switched on.
        ...(values.allocation === "ballot"
          ? { ballot_draw_days_before: Number(values.ballot_draw_days_before), ballot_draw_time: values.ballot_draw_time }
          : {}),
      };
      await onSubmit(fields);
      if (creating) setValues(initial);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} className="office-form">
      {creating && (
        <div className="field">
          <label htmlFor={`${idPrefix}-id`}>Id (never changes)</label>
          <input id={`${idPrefix}-id`} required pattern="[a-z0-9-]+" value={values.id} onChange={set("id")} aria-describedby={`${idPrefix}-id-hint`} />
          <p id={`${idPrefix}-id-hint`} className="hint">
            Lower-case letters, digits and dashes, e.g. london-hq.
          </p>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${idPrefix}-name`}>Name</label>
        <input id={`${idPrefix}-name`} required value={values.name} onChange={set("name")} />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-quota`}>Places per day</label>
        <input id={`${idPrefix}-quota`} type="number" min={0} max={100000} required value={values.quota} onChange={set("quota")} />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-parking`}>Parking spaces per day</label>
        <input id={`${idPrefix}-parking`} type="number" min={0} required value={values.parking_quota} onChange={set("parking_quota")} />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-tz`}>Time zone</label>
        <input id={`${idPrefix}-tz`} list="time-zones" required value={values.timezone} onChange={set("timezone")} />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-deadline`}>Check-in deadline (optional)</label>
        <input id={`${idPrefix}-deadline`} type="time" step={60} value={values.check_in_deadline}
          onChange={set("check_in_deadline")} aria-describedby={`${idPrefix}-deadline-hint`} />
        <p id={`${idPrefix}-deadline-hint`} className="hint">
          Office time. Bookings not checked in by then are released for others; leave empty for no release.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-allocation`}>How places are given</label>
        <select id={`${idPrefix}-allocation`} value={values.allocation} onChange={set("allocation")}
          aria-describedby={`${idPrefix}-allocation-hint`}>
          <option value="first_come">First come, first served</option>
          <option value="ballot">Ballot: requests drawn before the day</option>
        </select>
        <p id={`${idPrefix}-allocation-hint`} className="hint">
          With a ballot, people request days ahead; a fair draw gives the places (those who came least go first) and the
          others join the waitlist.
        </p>
      </div>
      {values.allocation === "ballot" && (
        <div className="draw-fields">
          <div className="field">
            <label htmlFor={`${idPrefix}-draw-days`}>Draw days before</label>
            <input id={`${idPrefix}-draw-days`} type="number" min={1} max={365} required value={values.ballot_draw_days_before}
              onChange={set("ballot_draw_days_before")} aria-describedby={`${idPrefix}-draw-hint`} />
          </div>
          <div className="field">
            <label htmlFor={`${idPrefix}-draw-time`}>Draw time</label>
            <input id={`${idPrefix}-draw-time`} type="time" step={60} required value={values.ballot_draw_time}
              onChange={set("ballot_draw_time")} aria-describedby={`${idPrefix}-draw-hint`} />
          </div>
          <p id={`${idPrefix}-draw-hint`} className="hint">
            Office time. A day is drawn this many days before it, at this time; until then booking it makes a request.
          </p>
        </div>
      )}
      <datalist id="time-zones">
        {zones.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <ErrorNotice error={error} />
      <button type="submit" className="button-primary" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

export function AdminOffices() {
  useTitle("Admin: offices");
  const me = useUser();
  const [offices, setOffices] = useState<Office[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [editing, setEditing] = useState<Office | null>(null);
  const [retiring, setRetiring] = useState<Office | null>(null);

  const reload = useCallback(() => api.offices(true).then(setOffices, setError), []);
  useEffect(() => {
    void reload();
  }, [reload]);

  if (!me.permissions.can_manage_offices) return <NotFound />;

  async function setRetired(office: Office, retired: boolean) {
    setRetiring(null);
    setError(null);
    try {
      if (retired) await api.retireOffice(office.id);
      else await api.updateOffice(office.id, { retired: false });
      setMessage(`${office.name} ${retired ? "retired" : "is open for bookings again"}.`);
    } catch (e) {
      setError(e);
    }
    await reload();
  }

  const defaultTz = offices?.[0]?.timezone ?? "Europe/London";
  return (
    <>
      <h1>Offices</h1>
      <SuccessNotice>{message}</SuccessNotice>
      <ErrorNotice error={error} />
      {!offices && !error && <Loading />}
      {offices && (
        <TableWrap label="Offices table">
          <table>
            <caption className="visually-hidden">Offices</caption>
            <thead>
              <tr>
                <th scope="col">Office</th>
                <th scope="col" className="num">
                  Places
                </th>
                <th scope="col" className="num">
                  Parking
                </th>
                <th scope="col">Time zone</th>
                <th scope="col">Check-in by</th>
                <th scope="col">Allocation</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {offices.map((o) => (
                <tr key={o.id} data-office={o.id}>
                  <td>
                    {o.name}
                    <br />
                    <code className="muted">{o.id}</code>
                  </td>
                  <td className="num">{o.quota}</td>
                  <td className="num">{o.parking_quota}</td>
                  <td>{o.timezone}</td>
                  <td>{o.check_in_deadline ?? "None"}</td>
                  <td>{allocationText(o)}</td>
                  <td>{o.retired ? "Retired" : "Active"}</td>
                  <td className="actions">
                    <button type="button" className="button-secondary button-small" onClick={() => setEditing(o)}>
                      Edit{" "}<span className="visually-hidden">{o.name}</span>
                    </button>
                    {o.retired ? (
                      <button type="button" className="button-secondary button-small" onClick={() => void setRetired(o, false)}>
                        Un-retire{" "}<span className="visually-hidden">{o.name}</span>
                      </button>
                    ) : (
                      <button type="button" className="button-danger-outline button-small" onClick={() => setRetiring(o)}>
                        Retire{" "}<span className="visually-hidden">{o.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <section className="card" aria-labelledby="new-office-title">
        <h2 id="new-office-title">New office</h2>
        <OfficeForm
          idPrefix="new-office"
          creating
          submitLabel="Create office"
          initial={{ id: "", name: "", quota: "50", parking_quota: "0", timezone: defaultTz, check_in_deadline: "", ...NEW_OFFICE_BALLOT }}
          onSubmit={async (fields) => {
            const created = await api.createOffice(fields);
            setMessage(`Created ${created.name}.`);
            await reload();
          }}
        />
      </section>
      <Dialog open={editing !== null} title={editing ? `Edit ${editing.name}` : "Edit office"} onClose={() => setEditing(null)}>
        {editing && (
          <>
            <OfficeForm
              idPrefix="edit-office"
              creating={false}
              submitLabel="Save"
              initial={{
                id: editing.id,
                name: editing.name,
                quota: String(editing.quota),
                parking_quota: String(editing.parking_quota),
                timezone: editing.timezone,
                check_in_deadline: editing.check_in_deadline ?? "",
                allocation: editing.allocation ?? "first_come",
                ballot_draw_days_before: String(editing.ballot_draw_days_before ?? 7),
                ballot_draw_time: editing.ballot_draw_time ?? "12:00",
              }}
              onSubmit={async (fields) => {
                const updated = await api.updateOffice(editing.id, fields);
                setEditing(null);
                setMessage(`Saved ${updated.name}.`);
                await reload();
              }}
            />
            <div className="dialog-actions">
              <button type="button" className="button-secondary" onClick={() => setEditing(null)}>
                Close
              </button>
            </div>
          </>
        )}
      </Dialog>
      <ConfirmDialog
        open={retiring !== null}
        title="Retire this office?"
        confirmLabel="Retire office"
        cancelLabel="Keep open"
        danger
        onCancel={() => setRetiring(null)}
        onConfirm={() => retiring && void setRetired(retiring, true)}
      >
        {retiring && (
          <p>
            {retiring.name} will take no new bookings. Existing bookings stay valid unless you cancel them; its history stays.
          </p>
        )}
      </ConfirmDialog>
    </>
  );
}
