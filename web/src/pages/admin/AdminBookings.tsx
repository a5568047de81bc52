import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, newIdempotencyKey } from "../../api";
import { CancelBookingDialog, LeaveWaitlistDialog } from "../../components/Dialog";
import { ErrorNotice, SuccessNotice } from "../../components/ErrorNotice";
import { TableWrap } from "../../components/TableWrap";
import { Loading } from "../../components/Loading";
import { SortHeader } from "../../components/SortHeader";
import { useTitle } from "../../components/useTitle";
import { formatDateTime, formatLongDate, isIsoDate, todayIn } from "../../lib/dates";
import { isAllowedEmail, normalizeEmail } from "../../lib/email";
import { retryTransient } from "../../lib/retry";
import { sortBy, toggleSort, type SortState } from "../../lib/sort";
import { KEYS, load, save } from "../../lib/storage";
import { ballotDraw, refusalForWaitlist } from "../../lib/waitlist";
import { useSession } from "../../session";
import type { Booking, Day, WaitlistEntry } from "../../types";
import { DayEditor } from "./DayEditor";
import { DayRequests, DayWaitlist } from "./DayQueues";
import { useManagedOffices } from "./useManagedOffices";

type Column = "user" | "parking" | "checked_in_at" | "created_at";

function NewBookingForm({ office, date, onBooked, onQueued }: {
  office: string;
  date: string;
  onBooked: (b: Booking) => void;
  onQueued: (w: WaitlistEntry) => void;
}) {
  const { config } = useSession();
  const [email, setEmail] = useState("");
  const [parking, setParking] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [needsReason, setNeedsReason] = useState(false);
  // The day was full for this person: they may be queued instead (SPEC §12).
  const [full, setFull] = useState<{ user: string; parking: boolean } | null>(null);
  const reasonOn = Boolean(config?.reason_to_book_required);

  useEffect(() => {
    // Whether this user must give a reason (config on and not auto-approved).
    const address = normalizeEmail(email);
    if (!reasonOn || !config || !isAllowedEmail(address, config.email_regex)) {
      setNeedsReason(false);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      api.user(address).then(
        (u) => live && setNeedsReason(!u.auto_approved),
        () => live && setNeedsReason(true),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [email, reasonOn, config]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const address = normalizeEmail(email);
    if (config && !isAllowedEmail(address, config.email_regex)) {
      setError(new Error("This email address is not permitted."));
      return;
    }
    setBusy(true);
    setError(null);
    setFull(null);
    try {
      const request = { user: address, office, date, parking, ...(needsReason && reason.trim() ? { reason: reason.trim() } : {}) };
      const key = newIdempotencyKey(); // one key for every attempt: a retry never books twice
      const booking = await retryTransient(() => api.createBooking(request, key));
      setEmail("");
      setParking(false);
      setReason("");
      onBooked(booking);
    } catch (e) {
      setError(e);
      if (refusalForWaitlist(e)) setFull({ user: address, parking });
    } finally {
      setBusy(false);
    }
  }

  async function queue() {
    if (!full) return;
    setBusy(true);
    setError(null);
    try {
      const entry = await api.joinWaitlist({
        user: full.user, office, date, parking: full.parking, ...(needsReason && reason.trim() ? { reason: reason.trim() } : {}),
      });
      setFull(null);
      setEmail("");
      setParking(false);
      setReason("");
      onQueued(entry);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card new-booking" onSubmit={submit} aria-labelledby="new-booking-title">
      <h2 id="new-booking-title">New booking on behalf of someone</h2>
      <div className="field">
        <label htmlFor="nb-email">Email address</label>
        <input id="nb-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
      </div>
      <div className="field-check">
        <input id="nb-parking" type="checkbox" checked={parking} onChange={(e) => setParking(e.target.checked)} />
        <label htmlFor="nb-parking">With a parking space</label>
      </div>
      {needsReason && (
        <div className="field">
          <label htmlFor="nb-reason">Reason to go to the office</label>
          <textarea id="nb-reason" rows={2} required value={reason} onChange={(e) => setReason(e.target.value)} />
        </div>
      )}
      <ErrorNotice error={error} />
      <div className="row-actions">
        <button type="submit" className="button-primary" disabled={busy || !email.trim()}>
          Book for {formatLongDate(date)}
        </button>
        {full && (
          <button type="button" className="button-secondary" onClick={() => void queue()} disabled={busy}>
            Add {full.user} to the waitlist{full.parking ? " with parking" : ""}
          </button>
        )}
      </div>
    </form>
  );
}

export function AdminBookings() {
  useTitle("Admin: bookings");
  const { offices, error: officesError } = useManagedOffices(true);
  const [params, setParams] = useSearchParams();
  const [bookings, setBookings] = useState<Booking[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [sort, setSort] = useState<SortState<Column>>({ key: "user", direction: "ascending" });
  const [pending, setPending] = useState<Booking | null>(null);
  const [waitlist, setWaitlist] = useState<WaitlistEntry[] | null>(null);
  const [removing, setRemoving] = useState<WaitlistEntry | null>(null);
  const [dayInfo, setDayInfo] = useState<Day | null>(null); // the day's effective capacity (SPEC §15)

  const officeId = params.get("office") ?? load(KEYS.adminOffice) ?? offices?.[0]?.id ?? "";
  const office = offices?.find((o) => o.id === officeId) ?? offices?.[0];
  const dateParam = params.get("date");
  const date = dateParam && isIsoDate(dateParam) ? dateParam : office ? todayIn(office.timezone) : "";

  const reload = useCallback(() => {
    if (!office || !date) return Promise.resolve();
    // Active bookings and ballot requests (SPEC §13), and the day's queue (SPEC §12).
    return Promise.all([
      api.currentBookings({ office: office.id, date }).then(setBookings, setError),
      api.waitlist({ office: office.id, date }).then(setWaitlist, setError),
    ]);
  }, [office, date]);

  useEffect(() => {
    setBookings(null);
    setWaitlist(null);
    setError(null);
    void reload();
  }, [reload]);
  useEffect(() => setDayInfo(null), [office?.id, date]);

  function update(next: { office?: string; date?: string }) {
    const p = new URLSearchParams(params);
    if (next.office) {
      p.set("office", next.office);
      save(KEYS.adminOffice, next.office);
    }
    if (next.date) p.set("date", next.date);
    setParams(p, { replace: true });
    setMessage(null);
  }

  async function cancel(booking: Booking) {
    setPending(null);
    setError(null);
    try {
      await api.cancelBooking(booking.id);
      setMessage(booking.status === "requested" ? `Cancelled the request of ${booking.user}.` : `Cancelled the booking of ${booking.user}.`);
    } catch (e) {
      setError(e);
    }
    await reload();
  }

  async function removeFromWaitlist(entry: WaitlistEntry) {
    setRemoving(null);
    setError(null);
    try {
      await api.leaveWaitlist(entry.id);
      setMessage(`Removed ${entry.user} from the waitlist.`);
    } catch (e) {
      setError(e);
    }
    await reload();
  }

  if (officesError) return <ErrorNotice error={officesError} />;
  if (!offices) return <Loading />;
  if (!office) {
    return (
      <>
        <h1>Bookings</h1>
        <p>You do not manage any office.</p>
      </>
    );
  }

  const active = (bookings ?? []).filter((b) => b.status === "active");
  const requests = (bookings ?? []).filter((b) => b.status === "requested");
  const draw = ballotDraw(office, date);
  const rows = sortBy(active, sort, (b, key) => {
    if (key === "parking") return b.parking ? 1 : 0;
    if (key === "checked_in_at") return b.checked_in_at ?? "";
    if (key === "created_at") return b.created_at;
    return b.user;
  });
  const parkingCount = active.filter((b) => b.parking).length;

  return (
    <>
      <h1>Bookings</h1>
      <div className="filters">
        <div className="field">
          <label htmlFor="ab-office">Office</label>
          <select id="ab-office" value={office.id} onChange={(e) => update({ office: e.target.value })}>
            {offices.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
                {o.retired ? " (retired)" : ""}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ab-date">Day</label>
          <input id="ab-date" type="date" value={date} onChange={(e) => e.target.value && update({ date: e.target.value })} />
        </div>
      </div>
      <SuccessNotice>{message}</SuccessNotice>
      <ErrorNotice error={error} />
      {bookings === null && !error ? (
        <Loading />
      ) : (
        <>
          <p className="summary" data-testid="booking-count">
            {dayInfo?.closed && <strong>Closed · </strong>}
            <strong>{active.length}</strong> of {dayInfo?.quota ?? office.quota} places booked,{" "}
            <strong>{parkingCount}</strong> of {dayInfo?.parking_quota ?? office.parking_quota} parking spaces ·{" "}
            {formatLongDate(date)}
          </p>
          {rows.length > 0 ? (
            <TableWrap label="Bookings table">
              <table>
                <caption className="visually-hidden">
                  Bookings at {office.name} on {formatLongDate(date)}
                </caption>
                <thead>
                  <tr>
                    <SortHeader label="Email" column="user" sort={sort} onSort={(k) => setSort(toggleSort(sort, k))} />
                    <SortHeader label="Parking" column="parking" sort={sort} onSort={(k) => setSort(toggleSort(sort, k))} />
                    <SortHeader label="Checked in" column="checked_in_at" sort={sort} onSort={(k) => setSort(toggleSort(sort, k))} />
                    <SortHeader label="Booked at" column="created_at" sort={sort} onSort={(k) => setSort(toggleSort(sort, k))} />
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((b) => (
                    <tr key={b.id}>
                      <td>
                        <Link to={`/admin/users/${encodeURIComponent(b.user)}`}>{b.user}</Link>
                      </td>
                      <td>{b.parking ? "Yes" : "No"}</td>
                      <td>{b.checked_in_at ? formatDateTime(b.checked_in_at, office.timezone) : "—"}</td>
                      <td>{formatDateTime(b.created_at, office.timezone)}</td>
                      <td>
                        <button type="button" className="button-danger-outline button-small" onClick={() => setPending(b)}>
                          Cancel{" "}<span className="visually-hidden">booking of {b.user}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          ) : (
            <p>No bookings on this day.</p>
          )}
          {(requests.length > 0 || draw?.pending) && (
            <DayRequests office={office} date={date} requests={requests} drawAt={draw?.text ?? null} onCancel={setPending} />
          )}
          <DayWaitlist office={office} date={date} entries={waitlist} onRemove={setRemoving} />
        </>
      )}
      {!office.retired && date >= todayIn(office.timezone) && (
        <DayEditor office={office} date={date} onChanged={() => void reload()} onDay={setDayInfo} />
      )}
      {!office.retired && (
        <NewBookingForm
          office={office.id}
          date={date}
          onBooked={(b) => {
            setMessage(
              b.status === "requested"
                ? `Requested a place at ${office.name} for ${b.user} on ${formatLongDate(b.date)}: decided by the draw.`
                : `Booked ${office.name} for ${b.user} on ${formatLongDate(b.date)}.`,
            );
            void reload();
          }}
          onQueued={(w) => {
            setMessage(`Added ${w.user} to the waitlist of ${office.name} on ${formatLongDate(w.date)}: position ${w.position}.`);
            void reload();
          }}
        />
      )}
      <CancelBookingDialog
        pending={pending}
        onKeep={() => setPending(null)}
        onCancel={(b) => void cancel(b)}
        request={pending?.status === "requested"}
        describe={(b) =>
          b.status === "requested" ? (
            <>
              The request of {b.user} for {office.name} on {formatLongDate(b.date)} will be withdrawn from the draw.
            </>
          ) : (
            <>
              The booking of {b.user} at {office.name} on {formatLongDate(b.date)} will be cancelled and they will be told by
                email.
            </>
          )
        }
      />
      <LeaveWaitlistDialog
        admin
        pending={removing}
        onStay={() => setRemoving(null)}
        onLeave={(w) => void removeFromWaitlist(w)}
        describe={(w) => (
          <>
            {w.user} (position {w.position ?? "—"}) will lose their place in the queue for {office.name} on{" "}
            {formatLongDate(w.date)}.
          </>
        )}
      />
    </>
  );
}
