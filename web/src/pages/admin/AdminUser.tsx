import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, type UserUpdate } from "../../api";
import { CancelBookingDialog, ConfirmDialog } from "../../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../../components/ErrorNotice";
import { TableWrap } from "../../components/TableWrap";
import { Loading } from "../../components/Loading";
import { useTitle } from "../../components/useTitle";
import { formatLongDate, formatTime } from "../../lib/dates";
import { useUser } from "../../session";
import type { Booking, Office, User } from "../../types";
import { NotFound } from "../NotFound";

function ReadOnlyUser({ user, offices }: { user: User; offices: Office[] }) {
  const name = (id: string) => offices.find((o) => o.id === id)?.name ?? id;
  return (
    <dl className="details">
      <dt>Role</dt>
      <dd>{user.role.name}</dd>
      {user.role.name === "Office Admin" && (
        <>
          <dt>Offices</dt>
          <dd>{user.role.offices.map(name).join(", ")}</dd>
        </>
      )}
      <dt>Weekly quota</dt>
      <dd>
        {user.quota}
        {user.custom_quota ? " (custom)" : " (default)"}
      </dd>
      <dt>Auto-approved</dt>
      <dd>{user.auto_approved ? "Yes" : "No"}</dd>
    </dl>
  );
}

function EditUser({ user, offices, onSaved }: { user: User; offices: Office[]; onSaved: (u: User) => void }) {
  const [customQuota, setCustomQuota] = useState(user.custom_quota);
  const [quota, setQuota] = useState(String(user.quota));
  const [role, setRole] = useState<"Default" | "Office Admin">(user.role.name === "Office Admin" ? "Office Admin" : "Default");
  const [roleOffices, setRoleOffices] = useState<string[]>(user.role.name === "Office Admin" ? user.role.offices : []);
  const [autoApproved, setAutoApproved] = useState(user.auto_approved);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const systemAdmin = user.role.name === "System Admin";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setSaved(false);
    const update: UserUpdate = { auto_approved: autoApproved };
    if (customQuota) {
      const n = Number(quota);
      if (!Number.isInteger(n) || n < 0 || n > 100) {
        setError(new Error("The weekly quota is a whole number from 0 to 100."));
        return;
      }
      update.quota = n;
    } else {
      update.quota = null;
    }
    if (!systemAdmin) {
      if (role === "Office Admin" && roleOffices.length === 0) {
        setError(new Error("Choose at least one office for an Office Admin."));
        return;
      }
      update.role = { name: role, offices: role === "Office Admin" ? roleOffices : [] };
    }
    setBusy(true);
    try {
      const updated = await api.updateUser(user.email, update);
      setSaved(true);
      onSaved(updated);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="edit-user-title">
      <h2 id="edit-user-title">Settings</h2>
      <fieldset>
        <legend>Weekly quota</legend>
        <div className="field-check">
          <input id="uq-default" type="radio" name="quota-mode" checked={!customQuota} onChange={() => setCustomQuota(false)} />
          <label htmlFor="uq-default">Default</label>
        </div>
        <div className="field-check">
          <input id="uq-custom" type="radio" name="quota-mode" checked={customQuota} onChange={() => setCustomQuota(true)} />
          <label htmlFor="uq-custom">Custom</label>
        </div>
        {customQuota && (
          <div className="field">
            <label htmlFor="uq-value">Bookings per week (0 to 100)</label>
            <input id="uq-value" type="number" min={0} max={100} step={1} value={quota} onChange={(e) => setQuota(e.target.value)} />
          </div>
        )}
      </fieldset>
      <fieldset>
        <legend>Role</legend>
        {systemAdmin ? (
          <p>System Admin (set in the configuration; it cannot be changed here).</p>
        ) : (
          <>
            <div className="field-check">
              <input id="ur-default" type="radio" name="role" checked={role === "Default"} onChange={() => setRole("Default")} />
              <label htmlFor="ur-default">Default</label>
            </div>
            <div className="field-check">
              <input id="ur-admin" type="radio" name="role" checked={role === "Office Admin"} onChange={() => setRole("Office Admin")} />
              <label htmlFor="ur-admin">Office Admin</label>
            </div>
            {role === "Office Admin" && (
              <fieldset className="nested">
                <legend>Offices managed</legend>
                {offices.map((o) => (
                  <div className="field-check" key={o.id}>
                    <input
                      id={`uro-${o.id}`}
                      type="checkbox"
                      checked={roleOffices.includes(o.id)}
                      onChange={(e) =>
                        setRoleOffices((list) => (e.target.checked ? [...list, o.id] : list.filter((id) => id !== o.id)))
                      }
                    />
                    <label htmlFor={`uro-${o.id}`}>{o.name}</label>
                  </div>
                ))}
              </fieldset>
            )}
          </>
        )}
      </fieldset>
      <div className="field-check">
        <input id="u-auto" type="checkbox" checked={autoApproved} onChange={(e) => setAutoApproved(e.target.checked)} />
        <label htmlFor="u-auto">Auto-approved (no reason to book needed)</label>
      </div>
      <ErrorNotice error={error} />
      {saved && <SuccessNotice>Saved.</SuccessNotice>}
      <button type="submit" className="button-primary" disabled={busy}>
        Save
      </button>
    </form>
  );
}

export function AdminUser() {
  const { email = "" } = useParams();
  useTitle(`Admin: ${email}`);
  const me = useUser();
  const navigate = useNavigate();
  const [user, setUser] = useState<User | null>(null);
  const [allOffices, setAllOffices] = useState<Office[]>([]); // retired ones too: names and zones of old bookings
  const [bookings, setBookings] = useState<Booking[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [bookingError, setBookingError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pendingCancel, setPendingCancel] = useState<Booking | null>(null);
  const [confirmErase, setConfirmErase] = useState(false);

  const loadBookings = useCallback(
    () => api.bookings({ user: email }).then(setBookings, setBookingError),
    [email],
  );

  useEffect(() => {
    setUser(null);
    setError(null);
    api.user(email).then(setUser, setError);
    api.offices(true).then(setAllOffices, () => undefined);
    void loadBookings();
  }, [email, loadBookings]);

  if (!me.permissions.can_view_users) return <NotFound />;

  async function cancel(booking: Booking) {
    setPendingCancel(null);
    setBookingError(null);
    try {
      await api.cancelBooking(booking.id);
      setMessage(`Cancelled the booking on ${formatLongDate(booking.date)}.`);
    } catch (e) {
      setBookingError(e);
    }
    await loadBookings();
  }

  async function erase() {
    setConfirmErase(false);
    try {
      await api.eraseUser(email);
      navigate("/admin/users", { replace: true });
    } catch (e) {
      setError(e);
    }
  }

  const canManage = (b: Booking) =>
    me.permissions.can_manage_all_bookings || me.permissions.offices_can_manage.includes(b.office.id);

  return (
    <>
      <p>
        <Link to="/admin/users">‹ All users</Link>
      </p>
      <h1 className="break">{email}</h1>
      <ErrorNotice error={error} />
      {!user && !error && <Loading />}
      {user &&
        (me.permissions.can_edit_users ? (
          <EditUser user={user} offices={allOffices.filter((o) => !o.retired)} onSaved={setUser} />
        ) : (
          <ReadOnlyUser user={user} offices={allOffices} />
        ))}

      <section aria-labelledby="user-bookings-title">
        <h2 id="user-bookings-title">Bookings</h2>
        <SuccessNotice>{message}</SuccessNotice>
        <ErrorNotice error={bookingError} />
        {bookings === null && !bookingError && <Loading />}
        {bookings && bookings.length === 0 && <p>No bookings.</p>}
        {bookings && bookings.length > 0 && (
          <TableWrap label={`Bookings of ${email}`}>
            <table>
              <caption className="visually-hidden">Bookings of {email}</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Office</th>
                  <th scope="col">Parking</th>
                  <th scope="col">Checked in</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {bookings.map((b) => (
                  <tr key={b.id}>
                    <td>{formatLongDate(b.date)}</td>
                    <td>{b.office.name}</td>
                    <td>{b.parking ? "Yes" : "No"}</td>
                    <td>{b.checked_in_at ? formatTime(b.checked_in_at, allOffices.find((o) => o.id === b.office.id)?.timezone) : "—"}</td>
                    <td>
                      {b.status === "active" && canManage(b) && (
                        <button type="button" className="button-danger-outline button-small" onClick={() => setPendingCancel(b)}>
                          Cancel{" "}<span className="visually-hidden">booking on {formatLongDate(b.date)}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>

      {me.permissions.can_edit_users && user && user.role.name !== "System Admin" && (
        <section className="danger-zone" aria-labelledby="erase-title">
          <h2 id="erase-title">Erase this user</h2>
          <p>Removes the profile, sessions and bookings; the change history keeps a pseudonym instead of the address.</p>
          <button type="button" className="button-danger" onClick={() => setConfirmErase(true)}>
            Erase user
          </button>
        </section>
      )}

      <CancelBookingDialog
        pending={pendingCancel}
        onKeep={() => setPendingCancel(null)}
        onCancel={(b) => void cancel(b)}
        describe={(b) => (
          <>
            The booking of {email} at {b.office.name} on {formatLongDate(b.date)} will be cancelled.
          </>
        )}
      />
      <ConfirmDialog
        open={confirmErase}
        title="Erase this user?"
        confirmLabel="Erase user"
        cancelLabel="Keep user"
        danger
        onCancel={() => setConfirmErase(false)}
        onConfirm={() => void erase()}
      >
        <p>
          {email} and all their bookings will be removed. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
