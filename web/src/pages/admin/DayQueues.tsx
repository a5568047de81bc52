// An office-day's ballot requests (SPEC §13) and waitlist (SPEC §12) on the admin bookings page.
import { Link } from "react-router";
import { TableWrap } from "../../components/TableWrap";
import { formatDateTime, formatLongDate } from "../../lib/dates";
import type { Booking, Office, WaitlistEntry } from "../../types";

const userLink = (email: string) => <Link to={`/admin/users/${encodeURIComponent(email)}`}>{email}</Link>;

/** The day's requests, waiting for the draw at `drawAt`. */
export function DayRequests({ office, date, requests, drawAt, onCancel }: {
  office: Office;
  date: string;
  requests: Booking[];
  /** "Friday 7 March at 12:00" (office time), or null. */
  drawAt: string | null;
  onCancel: (b: Booking) => void;
}) {
  const sorted = [...requests].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const parking = requests.filter((r) => r.parking).length;
  return (
    <section className="admin-section" aria-labelledby="requests-title" data-testid="day-requests">
      <h2 id="requests-title">Requests</h2>
      <p className="summary">
        <strong>{requests.length}</strong> request{requests.length === 1 ? "" : "s"} ({parking} with parking)
        {drawAt ? ` · drawn on ${drawAt}` : ""}
      </p>
      {sorted.length > 0 ? (
        <TableWrap label="Requests table">
          <table>
            <caption className="visually-hidden">
              Requests for {office.name} on {formatLongDate(date)}
            </caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Parking</th>
                <th scope="col">Requested at</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((r) => (
                <tr key={r.id} data-request={r.id}>
                  <td>{userLink(r.user)}</td>
                  <td>{r.parking ? "Yes" : "No"}</td>
                  <td>{formatDateTime(r.created_at, office.timezone)}</td>
                  <td>
                    <button type="button" className="button-danger-outline button-small" onClick={() => onCancel(r)}>
                      Cancel{" "}<span className="visually-hidden">request of {r.user}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : (
        <p>No requests for this day.</p>
      )}
    </section>
  );
}

/** The day's queue, in order (position 1 = next). */
export function DayWaitlist({ office, date, entries, onRemove }: {
  office: Office;
  date: string;
  entries: WaitlistEntry[] | null;
  onRemove: (w: WaitlistEntry) => void;
}) {
  const waiting = [...(entries ?? [])].sort((a, b) => (a.position ?? Infinity) - (b.position ?? Infinity));
  return (
    <section className="admin-section" aria-labelledby="waitlist-title" data-testid="day-waitlist">
      <h2 id="waitlist-title">Waitlist</h2>
      {entries === null ? null : waiting.length > 0 ? (
        <TableWrap label="Waitlist table">
          <table>
            <caption className="visually-hidden">
              Waitlist of {office.name} on {formatLongDate(date)}
            </caption>
            <thead>
              <tr>
                <th scope="col" className="num">
                  Position
                </th>
                <th scope="col">Email</th>
                <th scope="col">Parking</th>
                <th scope="col">Joined at</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {waiting.map((w) => (
                <tr key={w.id} data-waitlist={w.id}>
                  <td className="num">{w.position ?? "—"}</td>
                  <td>{userLink(w.user)}</td>
                  <td>{w.parking ? "Yes" : "No"}</td>
                  <td>{formatDateTime(w.created_at, office.timezone)}</td>
                  <td>
                    <button type="button" className="button-danger-outline button-small" onClick={() => onRemove(w)}>
                      Remove{" "}<span className="visually-hidden">{w.user} from the waitlist</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : (
        <p>Nobody is waiting for a place on this day.</p>
      )}
    </section>
  );
}
