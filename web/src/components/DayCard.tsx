import { Link } from "react-router";
import { bookingBlocker, ownerCanCancel, waitlistOffer, type DayCell, type Level } from "../lib/calendar";
import { formatLongDate, formatMoment, formatShortDate } from "../lib/dates";
import { positionText } from "../lib/waitlist";
import type { Office, WaitlistEntry } from "../types";

const LEVEL_TEXT: Record<Level, string> = {
  high: "Plenty of room",
  medium: "Filling up",
  low: "Nearly full",
  full: "Full",
  none: "Not offered",
};

function Meter({ left, capacity, level }: { left: number; capacity: number; level: Level }) {
  // The bar shows what is still free: long and green when there is plenty of room.
  const free = capacity > 0 ? Math.round((left / capacity) * 100) : 0;
  return (
    <span className={`meter level-${level}`} aria-hidden="true">
      <span className="meter-fill" style={{ width: `${free}%` }} />
    </span>
  );
}

interface Props {
  day: DayCell;
  office: Office;
  remaining: number;
  busy: boolean;
  onBook: (date: string, parking: boolean) => void;
  /** Cancel the day's booking, or its ballot request. */
  onCancel: (day: DayCell) => void;
  onJoinWaitlist?: (date: string, parking: boolean) => void;
  onLeaveWaitlist?: (entry: WaitlistEntry) => void;
  /** The server just refused booking this day for lack of room (SPEC §12: offer the waitlist). */
  refused?: "places" | "parking" | null;
}

function Availability({ day }: { day: DayCell }) {
  return (
    <div className="availability">
      <p className={`avail avail-places level-${day.level}`}>
        <Meter left={day.placesLeft} capacity={day.quota} level={day.level} />
        <span className="avail-text">
          <strong>{day.placesLeft}</strong> of {day.quota} places left
          <span className="level-word"> · {LEVEL_TEXT[day.level]}</span>
        </span>
      </p>
      {day.parkingQuota > 0 && (
        <p className={`avail avail-parking level-${day.parkingLevel}`}>
          <Meter left={day.parkingLeft} capacity={day.parkingQuota} level={day.parkingLevel} />
          <span className="avail-text">
            <strong>{day.parkingLeft}</strong> of {day.parkingQuota} parking spaces left
          </span>
        </p>
      )}
    </div>
  );
}

/** A ballot day before its draw (SPEC §13): requested, or open for requests. */
function BallotInfo({ day, office }: { day: DayCell; office: Office }) {
  const drawn = day.drawAt ? formatMoment(day.drawAt, office.timezone) : null;
  if (day.request) {
    return (
      <div className="ballot-info" data-testid="ballot-info">
        <p>
          <strong>Requested</strong>
          {day.request.parking ? " with parking" : ""}
          {drawn ? ` — drawn on ${drawn}` : " — waiting for the draw"}
        </p>
        <p className="muted">Places go to requests by a fair draw; you will be told the result.</p>
      </div>
    );
  }
  return (
    <div className="ballot-info" data-testid="ballot-info">
      <p>
        <strong>Request a place</strong>
        {drawn ? ` — drawn on ${drawn}` : ""}
      </p>
      <p className="muted">
        {day.quota} places{day.parkingQuota > 0 ? `, ${day.parkingQuota} parking spaces` : ""}, shared by a fair draw
        among requests.
      </p>
    </div>
  );
}

export function DayCard({ day, office, remaining, busy, onBook, onCancel, onJoinWaitlist, onLeaveWaitlist, refused }: Props) {
  const blocker = bookingBlocker(day, remaining);
  const offer = onJoinWaitlist ? waitlistOffer({ day, office, remaining, refused }) : null;
  const headingId = `day-${day.date}`;
  const showAvailability = day.bookable || day.booking;
  const ballot = !day.booking && (day.request !== null || (day.drawPending && day.bookable && !day.waitlist));
  const classes = ["day", day.isToday ? "day-today" : "", !day.bookable ? "day-disabled" : "", day.booking ? "day-booked" : "",
    day.request ? "day-requested" : "", day.closed ? "day-closed" : ""];
  const longDate = formatLongDate(day.date);
  const hiddenDate = <span className="visually-hidden">{longDate}</span>;
  const parkingOffered = office.parking_quota > 0 && !day.closed;
  return (
    <li className={classes.filter(Boolean).join(" ")} aria-labelledby={headingId} data-date={day.date}>
      <div className="day-head">
        <h3 id={headingId} className="day-title">
          <span aria-hidden="true">{formatShortDate(day.date)}</span>
          <span className="visually-hidden">{longDate}</span>
        </h3>
        {day.isToday && <span className="badge badge-today">Today</span>}
        {day.booking && <span className="badge badge-booked">Booked{day.booking.parking ? " + parking" : ""}</span>}
        {day.request && <span className="badge badge-requested">Requested</span>}
        {day.waitlist && <span className="badge badge-waitlist">Waitlist</span>}
        {day.closed && <span className="badge badge-closed">Closed</span>}
      </div>
      <div className="day-info">
        {day.closed && (day.bookable || day.booking) ? (
          <div className="closed-day" data-testid="closed-day">
            <p className="closed-title">
              <strong>{office.name} is closed on this day.</strong>
            </p>
            {day.note && <p className="closed-note">{day.note}</p>}
          </div>
        ) : ballot ? (
          <BallotInfo day={day} office={office} />
        ) : showAvailability ? (
          <Availability day={day} />
        ) : (
          <p className="day-note">{day.isPast ? "Past" : "Not bookable yet"}</p>
        )}
        {day.waitlist && (
          <p className="waitlist-status" data-testid="waitlist-status">
            <strong>{positionText(day.waitlist)}</strong>
            {day.waitlist.parking ? " (with parking)" : ""}
          </p>
        )}
      </div>
      <div className="day-actions">
        {day.booking ? (
          <>
            <Link className="button button-secondary" to={`/booking/${encodeURIComponent(day.booking.id)}`}>
              View pass{" "}<span className="visually-hidden">for {longDate}</span>
            </Link>
            {ownerCanCancel(day.booking) && (
              <button type="button" className="button-danger-outline" onClick={() => onCancel(day)} disabled={busy}>
                Cancel{" "}<span className="visually-hidden">booking on {longDate}</span>
              </button>
            )}
          </>
        ) : day.request ? (
          ownerCanCancel(day.request) && (
            <button type="button" className="button-danger-outline" onClick={() => onCancel(day)} disabled={busy}>
              Cancel request{" "}<span className="visually-hidden">for {longDate}</span>
            </button>
          )
        ) : day.waitlist ? (
          onLeaveWaitlist && (
            <button type="button" className="button-danger-outline" onClick={() => day.waitlist && onLeaveWaitlist(day.waitlist)}
              disabled={busy}>
              Leave the waitlist{" "}<span className="visually-hidden">for {longDate}</span>
            </button>
          )
        ) : day.bookable && day.drawPending ? (
          <>
            <button type="button" className="button-primary" onClick={() => onBook(day.date, false)} disabled={busy || blocker !== null}>
              Request a place{" "}<span className="visually-hidden">on {longDate}</span>
            </button>
            {parkingOffered && day.parkingQuota > 0 && (
              <button type="button" className="button-secondary" onClick={() => onBook(day.date, true)}
                disabled={busy || blocker !== null}>
                Request + parking{" "}<span className="visually-hidden">on {longDate}</span>
              </button>
            )}
            {blocker && <span className="day-note">{blocker}</span>}
          </>
        ) : day.bookable ? (
          <>
            {offer?.places ? (
              <>
                <button type="button" className="button-primary" onClick={() => onJoinWaitlist?.(day.date, false)} disabled={busy}>
                  Join the waitlist{" "}<span className="visually-hidden">for {longDate}</span>
                </button>
                {offer.parking && (
                  <button type="button" className="button-secondary" onClick={() => onJoinWaitlist?.(day.date, true)} disabled={busy}>
                    Join + parking{" "}<span className="visually-hidden">waitlist for {longDate}</span>
                  </button>
                )}
              </>
            ) : (
              <>
                <button
                  type="button"
                  className="button-primary"
                  onClick={() => onBook(day.date, false)}
                  disabled={busy || blocker !== null}
                >
                  Book{" "}{hiddenDate}
                </button>
                {offer?.parking ? (
                  <button type="button" className="button-secondary" onClick={() => onJoinWaitlist?.(day.date, true)} disabled={busy}>
                    Join the waitlist for parking{" "}<span className="visually-hidden">on {longDate}</span>
                  </button>
                ) : (
                  parkingOffered && (
                    <button
                      type="button"
                      className="button-secondary"
                      onClick={() => onBook(day.date, true)}
                      disabled={busy || blocker !== null || day.parkingLeft <= 0}
                    >
                      Book + parking{" "}{hiddenDate}
                    </button>
                  )
                )}
              </>
            )}
            {blocker && <span className="day-note">{blocker}</span>}
            {!blocker && day.parkingQuota > 0 && day.parkingLeft <= 0 && <span className="day-note">Car park full</span>}
            {!blocker && office.parking_quota > 0 && day.parkingQuota === 0 && <span className="day-note">No parking this day</span>}
          </>
        ) : null}
      </div>
    </li>
  );
}
