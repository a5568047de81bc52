// The waitlist of full days (SPEC §12) and the ballot's results (SPEC §13) as the screens show
// them: which refusals invite joining the queue, live `waitlist` events applied to the list, and
// what to tell the user when one arrives.
import { ApiError } from "../api";
import type { Office, WaitlistEntry, WaitlistEvent } from "../types";
import { addDays, formatDate, formatLongDate, timeIn, todayIn, weekdayName } from "./dates";

/** A booking refused for lack of room: "places" (office full, or the day closed) or "parking"
 * (car park full) — the moment to offer "Join the waitlist". Null for any other error. */
export function refusalForWaitlist(error: unknown): "places" | "parking" | null {
  if (!(error instanceof ApiError)) return null;
  if (error.code === "office_full" || error.code === "office_closed") return "places";
  if (error.code === "parking_full") return "parking";
  return null;
}

/**
 * One live event applied to the user's waiting entries: a new position for a known entry, or the
 * entry gone (promoted, won, expired, cancelled, left). `known` is false when the event names an
 * entry the list does not hold yet (joined elsewhere, or a ballot's loser): read the list again.
 */
export function applyWaitlistEvent(entries: WaitlistEntry[], event: WaitlistEvent): { entries: WaitlistEntry[]; known: boolean } {
  const index = event.id ? entries.findIndex((e) => e.id === event.id) : -1;
  if (event.status === "waiting") {
    if (index < 0) return { entries, known: false };
    const next = entries.slice();
    next[index] = { ...entries[index], position: event.position };
    return { entries: next, known: true };
  }
  if (index < 0) return { entries, known: event.status === "left" || event.status === "cancelled" };
  return { entries: entries.filter((_, i) => i !== index), known: true };
}

/** What to tell the user about an event, or null when the screen's change says it all (a new
 * position, their own leaving). */
export function waitlistEventText(event: WaitlistEvent, officeName: string): string | null {
  const when = `${officeName} on ${formatLongDate(event.date)}`;
  switch (event.status) {
    case "promoted":
      return `A place freed up: you're booked at ${when}.`;
    case "won":
      return `Your request was drawn: you're booked at ${when}.`;
    case "waiting":
      // A ballot's loser: their request became a place in the queue.
      return event.booking_id
        ? `The draw for ${when} is done: no place this time. You are on the waitlist${event.position ? `, position ${event.position}` : ""}.`
        : null;
    case "expired":
      return `Your place on the waitlist for ${when} has expired: no place freed up in time.`;
    case "cancelled":
      return `You were taken off the waitlist for ${when}.`;
    default:
      return null;
  }
}

/** "On the waitlist — position 2" */
export function positionText(entry: Pick<WaitlistEntry, "position">): string {
  return entry.position ? `On the waitlist — position ${entry.position}` : "On the waitlist";
}

/** When a ballot office's `date` is drawn (SPEC §13), in the office's calendar and clock:
 * `ballot_draw_days_before` days earlier at `ballot_draw_time`; null for a first-come office. */
export function ballotDraw(
  office: Pick<Office, "allocation" | "ballot_draw_days_before" | "ballot_draw_time" | "timezone">,
  date: string,
  now: Date = new Date(),
): { date: string; time: string; text: string; pending: boolean } | null {
  if (office.allocation !== "ballot") return null;
  const drawDate = addDays(date, -(office.ballot_draw_days_before ?? 7));
  const time = office.ballot_draw_time ?? "12:00";
  const today = todayIn(office.timezone, now);
  const pending = today < drawDate || (today === drawDate && timeIn(office.timezone, now) < time);
  const text = `${weekdayName(drawDate)} ${formatDate(drawDate).replace(/ \d{4}$/, "")} at ${time}`;
  return { date: drawDate, time, text, pending };
}
