// Regular office days and calendars (SPEC §14): pure helpers of the "Regular days" page and of
// the range cancel and calendar feed on "My bookings".
import type { Booking, KeptBooking, OccurrenceResult, OccurrenceStatus } from "../types";
import { formatLongDate } from "./dates";

/** ISO weekdays, 1 = Monday … 7 = Sunday, as the API counts them. */
export const WEEKDAYS: { iso: number; name: string; plural: string }[] = [
  { iso: 1, name: "Monday", plural: "Mondays" },
  { iso: 2, name: "Tuesday", plural: "Tuesdays" },
  { iso: 3, name: "Wednesday", plural: "Wednesdays" },
  { iso: 4, name: "Thursday", plural: "Thursdays" },
  { iso: 5, name: "Friday", plural: "Fridays" },
  { iso: 6, name: "Saturday", plural: "Saturdays" },
  { iso: 7, name: "Sunday", plural: "Sundays" },
];

function joinWords(words: string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

/** "Every day", "Every weekday (Monday to Friday)", or "Mondays, Wednesdays and Fridays". */
export function describeWeekdays(weekdays: number[]): string {
  const days = [...new Set(weekdays)].filter((d) => d >= 1 && d <= 7).sort((a, b) => a - b);
  if (days.length === 7) return "Every day";
  if (days.join() === "1,2,3,4,5") return "Every weekday (Monday to Friday)";
  if (days.join() === "6,7") return "Weekends (Saturdays and Sundays)";
  return joinWords(days.map((d) => WEEKDAYS[d - 1].plural));
}

/** How each result reads, next to its colour. */
export const RESULT_LABEL: Record<OccurrenceStatus, string> = {
  booked: "Booked",
  requested: "Requested",
  refused: "Not booked",
  pending: "Being booked",
};

export interface ResultCounts {
  booked: number;
  requested: number;
  refused: number;
  pending: number;
}

export function countResults(results: OccurrenceResult[]): ResultCounts {
  const counts: ResultCounts = { booked: 0, requested: 0, refused: 0, pending: 0 };
  for (const r of results) counts[r.status] += 1;
  return counts;
}

function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3 days booked, 2 not booked" — what a new pattern did at once (the dates in the window). */
export function summariseResults(results: OccurrenceResult[]): string {
  if (results.length === 0) return "No day is in the booking window yet: each is booked when it comes into it.";
  const c = countResults(results);
  const parts: string[] = [];
  if (c.booked) parts.push(`${plural(c.booked, "day")} booked`);
  if (c.requested) parts.push(`${plural(c.requested, "day")} requested for the draw`);
  if (c.refused) parts.push(`${plural(c.refused, "day")} not booked`);
  if (c.pending) parts.push(`${plural(c.pending, "day")} being booked`);
  return `${parts.join(", ")}.`;
}

/** Results in date order, oldest first. */
export function sortResults(results: OccurrenceResult[]): OccurrenceResult[] {
  return [...results].sort((a, b) => a.date.localeCompare(b.date));
}

/** The calendar app's address of a feed: the same URL with the `webcal://` scheme. */
export function webcalUrl(url: string): string {
  return url.replace(/^https?:\/\//i, "webcal://");
}

/** A kept booking of a range cancel, in words: its day and office when the page knows it. */
export function describeKept(kept: KeptBooking, bookings: Booking[]): string {
  const booking = bookings.find((b) => b.id === kept.id);
  if (!booking) return `A booking (${kept.id}): ${kept.message}`;
  const what = booking.status === "requested" ? "Request for" : "";
  return `${what ? `${what} ` : ""}${formatLongDate(booking.date)} at ${booking.office.name}: ${kept.message}`;
}

/** "Cancelled 3 bookings." (requests included: they are cancelled the same way). */
export function cancelledText(n: number): string {
  if (n === 0) return "No booking was cancelled.";
  return `Cancelled ${plural(n, "booking")}.`;
}
