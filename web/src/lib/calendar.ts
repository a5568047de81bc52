// The booking calendar of the home screen: which days are bookable, how full each one is, what the
// user has booked and how many bookings the weekly quota still allows (SPEC §4).
import type { Booking, Office, Slot, WaitlistEntry } from "../types";
import { addDays, timeIn, weekDates, weekStart } from "./dates";

export type Level = "high" | "medium" | "low" | "full" | "none";

/** A day's counters; the day's capacity, closure and note when the server sent them (SPEC §15). */
export type SlotCounts = Pick<Slot, "date" | "booked" | "booked_parking"> &
  Partial<Pick<Slot, "quota" | "parking_quota" | "closed" | "note" | "draw_at">>;

/** How much room is left, for the colour scale: none = not offered (capacity 0). */
export function availabilityLevel(free: number, capacity: number): Level {
  if (capacity <= 0) return "none";
  if (free <= 0) return "full";
  const share = free / capacity;
  if (share > 0.5) return "high";
  if (share > 0.2) return "medium";
  return "low";
}

export interface BookableWindow {
  first: string;
  last: string;
}

/** Today … today + advance_booking_days − 1 (SPEC §4 rule 6), in the office's calendar. */
export function bookableWindow(today: string, advanceBookingDays: number): BookableWindow {
  return { first: today, last: addDays(today, Math.max(advanceBookingDays, 1) - 1) };
}

/** Active bookings and ballot requests (SPEC §13: both count toward the weekly quota) whose date
 * falls in the Monday–Sunday week starting `monday` (all offices). */
export function bookingsInWeek(bookings: Booking[], monday: string): Booking[] {
  return bookings.filter((b) => (b.status === "active" || b.status === "requested") && weekStart(b.date) === monday);
}

/** "N bookings remaining this week": the weekly quota minus active bookings and requests that week. */
export function remainingInWeek(bookings: Booking[], monday: string, quota: number): number {
  return Math.max(0, quota - bookingsInWeek(bookings, monday).length);
}

export interface WeekNavigation {
  canGoBack: boolean;
  canGoForward: boolean;
}

/** The navigator shows weeks from the current one up to the one holding the last bookable day. */
export function weekNavigation(monday: string, window: BookableWindow): WeekNavigation {
  return {
    canGoBack: monday > weekStart(window.first),
    canGoForward: addDays(monday, 7) <= window.last,
  };
}

export function clampWeek(monday: string, window: BookableWindow): string {
  const first = weekStart(window.first);
  const last = weekStart(window.last);
  if (monday < first) return first;
  if (monday > last) return last;
  return monday;
}

export interface DayCell {
  date: string;
  isToday: boolean;
  isPast: boolean;
  bookable: boolean;
  placesLeft: number;
  parkingLeft: number;
  level: Level;
  parkingLevel: Level;
  /** The day's effective capacity: the office's, or the day's override (SPEC §15). */
  quota: number;
  parkingQuota: number;
  /** Closed by an admin that day (SPEC §15), with their note. */
  closed: boolean;
  note: string | null;
  /** The user's active booking at this office that day. */
  booking: Booking | null;
  /** The user's ballot request at this office that day, waiting for the draw (SPEC §13). */
  request: Booking | null;
  /** A ballot office: when this day is drawn (ISO), else null. */
  drawAt: string | null;
  /** The draw is still ahead: booking the day makes a request; capacity is not checked yet. */
  drawPending: boolean;
  /** The user's place in this day's queue (SPEC §12). */
  waitlist: WaitlistEntry | null;
}

export function buildWeek(options: {
  monday: string;
  today: string;
  window: BookableWindow;
  office: Office;
  slots: SlotCounts[];
  bookings: Booking[];
  /** The user's waiting entries (GET /api/waitlist). */
  waitlist?: WaitlistEntry[];
  now?: Date;
}): DayCell[] {
  const { monday, today, window, office, slots, bookings, waitlist = [], now = new Date() } = options;
  const byDate = new Map(slots.map((s) => [s.date, s]));
  return weekDates(monday).map((date) => {
    const slot = byDate.get(date);
    const inWindow = date >= window.first && date <= window.last;
    const booked = slot?.booked ?? 0;
    const bookedParking = slot?.booked_parking ?? 0;
    const quota = slot?.quota ?? office.quota;
    const parkingQuota = slot?.parking_quota ?? office.parking_quota;
    const closed = slot?.closed ?? false;
    const placesLeft = closed ? 0 : Math.max(0, quota - booked);
    const parkingLeft = closed ? 0 : Math.max(0, parkingQuota - bookedParking);
    const here = (b: { date: string; office: { id: string } }) => b.date === date && b.office.id === office.id;
    const booking = bookings.find((b) => b.status === "active" && here(b)) ?? null;
    const request = bookings.find((b) => b.status === "requested" && here(b)) ?? null;
    const drawAt = slot?.draw_at ?? null;
    const drawMoment = drawAt ? new Date(drawAt).getTime() : NaN;
    return {
      date,
      isToday: date === today,
      isPast: date < today,
      bookable: inWindow && !office.retired,
      placesLeft,
      parkingLeft,
      level: availabilityLevel(placesLeft, quota),
      parkingLevel: availabilityLevel(parkingLeft, parkingQuota),
      quota,
      parkingQuota,
      closed,
      note: slot?.note ?? null,
      booking,
      request,
      drawAt,
      drawPending: !Number.isNaN(drawMoment) && drawMoment > now.getTime(),
      waitlist: waitlist.find((w) => (w.status ?? "waiting") === "waiting" && here(w)) ?? null,
    };
  });
}

/** Why the Book buttons of a day are disabled, or null when booking is possible. */
export function bookingBlocker(day: DayCell, remaining: number): string | null {
  if (!day.bookable) return day.isPast ? "This day has passed" : "Not bookable yet";
  if (day.booking) return "You have booked this day";
  if (day.request) return "You have requested this day";
  if (day.waitlist) return "You are on the waitlist";
  if (day.closed) return "Office closed on this day";
  // Before a ballot's draw, requests are taken whatever the counts (SPEC §13).
  if (!day.drawPending && day.placesLeft <= 0) return "Office full";
  if (remaining <= 0) return "No bookings left this week";
  return null;
}

/** What the user may queue for on a day (SPEC §12): a place (`places`, with or without parking)
 * when the day is full or closed, or only a place with parking when the car park alone is full;
 * null when there is nothing to queue for. `refused`: the server just refused a booking of this
 * day for lack of room ("places": office full or closed; "parking": car park full), whatever the
 * counts on screen say. */
export interface WaitlistOffer {
  places: boolean;
  parking: boolean;
}

export function waitlistOffer(options: {
  day: DayCell;
  office: Pick<Office, "parking_quota" | "check_in_deadline" | "timezone">;
  remaining: number;
  refused?: "places" | "parking" | null;
  now?: Date;
}): WaitlistOffer | null {
  const { day, office, remaining, refused = null, now = new Date() } = options;
  if (!day.bookable || day.isPast || day.booking || day.request || day.waitlist || day.drawPending) return null;
  if (remaining <= 0) return null;
  // The queue of a day closes at its check-in deadline, or at its start when there is none.
  if (day.isToday && (!office.check_in_deadline || timeIn(office.timezone, now) >= office.check_in_deadline)) return null;
  const withParking = office.parking_quota > 0;
  if (day.closed || day.placesLeft <= 0 || refused === "places") return { places: true, parking: withParking };
  if (withParking && ((day.parkingQuota > 0 && day.parkingLeft <= 0) || refused === "parking")) {
    return { places: false, parking: true };
  }
  return null;
}

/** The owner may cancel (a booking, or a ballot request) until the start of the booking day in
 * the office's time zone. */
export function ownerCanCancel(booking: Booking, now: Date = new Date()): boolean {
  if (booking.status !== "active" && booking.status !== "requested") return false;
  const deadline = new Date(booking.cancellable_until);
  if (Number.isNaN(deadline.getTime())) return false;
  return now.getTime() < deadline.getTime();
}

/** Split bookings into upcoming (today or later) and previous, each in a sensible order. */
export function splitByDate(bookings: Booking[], today: string): { upcoming: Booking[]; previous: Booking[] } {
  const upcoming = bookings.filter((b) => b.date >= today).sort((a, b) => a.date.localeCompare(b.date));
  const previous = bookings.filter((b) => b.date < today).sort((a, b) => b.date.localeCompare(a.date));
  return { upcoming, previous };
}

/**
 * Slots just read from the server, merged with what the screen shows: a day whose live event
 * arrived after the read was sent keeps the event's counts (the read may predate it).
 */
export function mergeSlots<T extends SlotCounts>(fresh: T[], current: T[] | null, updatedSinceRead: (date: string) => boolean): T[] {
  if (!current) return fresh;
  const shown = new Map(current.map((s) => [s.date, s]));
  return fresh.map((s) => {
    const live = shown.get(s.date);
    return live && updatedSinceRead(s.date) ? { ...s, booked: live.booked, booked_parking: live.booked_parking } : s;
  });
}

/** Apply one live availability event to the slots of its office. */
export function applyAvailability<T extends SlotCounts>(slots: T[], event: SlotCounts): T[] {
  // A day override's event (SPEC §15) also carries the day's capacity, closure and note.
  const day: Partial<SlotCounts> = {};
  if (event.quota !== undefined) day.quota = event.quota;
  if (event.parking_quota !== undefined) day.parking_quota = event.parking_quota;
  if (event.closed !== undefined) day.closed = event.closed;
  if (event.note !== undefined) day.note = event.note;
  return slots.map((s) =>
    s.date === event.date ? { ...s, ...day, booked: event.booked, booked_parking: event.booked_parking } : s,
  );
}
