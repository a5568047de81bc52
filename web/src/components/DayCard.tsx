import { Link } from "react-router";
import { bookingBlocker, ownerCanCancel, type DayCell, type Level } from "../lib/calendar";
import { formatShortDate, formatLongDate } from "../lib/dates";
import type { Office } from "../types";

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
  onCancel: (day: DayCell) => void;
}

export function DayCard({ day, office, remaining, busy, onBook, onCancel }: Props) {
  const blocker = bookingBlocker(day, remaining);
  const headingId = `day-${day.date}`;
  const showAvailability = day.bookable || day.booking;
  const classes = ["day", day.isToday ? "day-today" : "", !day.bookable ? "day-disabled" : "", day.booking ? "day-booked" : "",
    day.closed ? "day-closed" : ""];
  return (
    <li className={classes.join(" ").trim()} aria-labelledby={headingId} data-date={day.date}>
      <div className="day-head">
        <h3 id={headingId} className="day-title">
          <span aria-hidden="true">{formatShortDate(day.date)}</span>
          <span className="visually-hidden">{formatLongDate(day.date)}</span>
        </h3>
        {day.isToday && <span className="badge badge-today">Today</span>}
        {day.booking && <span className="badge badge-booked">Booked{day.booking.parking ? " + parking" : ""}</span>}
        {day.closed && <span className="badge badge-closed">Closed</span>}
      </div>
      {day.closed && (day.bookable || day.booking) ? (
        <div className="closed-day" data-testid="closed-day">
          <p className="closed-title">
            <strong>{office.name} is closed on this day.</strong>
          </p>
          {day.note && <p className="closed-note">{day.note}</p>}
        </div>
      ) : showAvailability ? (
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
      ) : (
        <p className="day-note">{day.isPast ? "Past" : "Not bookable yet"}</p>
      )}
      <div className="day-actions">
        {day.booking ? (
          <>
            <Link className="button button-secondary" to={`/booking/${encodeURIComponent(day.booking.id)}`}>
              View pass{" "}<span className="visually-hidden">for {formatLongDate(day.date)}</span>
            </Link>
            {ownerCanCancel(day.booking) && (
              <button type="button" className="button-danger-outline" onClick={() => onCancel(day)} disabled={busy}>
                Cancel{" "}<span className="visually-hidden">booking on {formatLongDate(day.date)}</span>
              </button>
            )}
          </>
        ) : day.bookable ? (
          <>
            <button
              type="button"
              className="button-primary"
              onClick={() => onBook(day.date, false)}
              disabled={busy || blocker !== null}
            >
              Book{" "}<span className="visually-hidden">{formatLongDate(day.date)}</span>
            </button>
            {office.parking_quota > 0 && !day.closed && (
              <button
                type="button"
                className="button-secondary"
                onClick={() => onBook(day.date, true)}
                disabled={busy || blocker !== null || day.parkingLeft <= 0}
              >
                Book + parking{" "}<span className="visually-hidden">{formatLongDate(day.date)}</span>
              </button>
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
