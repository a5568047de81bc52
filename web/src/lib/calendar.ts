// The booking calendar of the home screen: which days are bookable, how full each one is, what the
// user has booked and how many bookings the weekly quota still allows (SPEC §4).
import type { Booking, Office, Slot } from "../types";
import { addDays, weekDates, weekStart } from "./dates";

export type Level = "high" | "medium" | "low" | "full" | "none";

/** A day's counters; the day's capacity, closure and note when the server sent them (SPEC §15). */
export type SlotCounts = Pick<Slot, "date" | "booked" | "booked_parking"> &
  Partial<Pick<Slot, "quota" | "parking_quota" | "closed" | "note">>;

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

/** Active bookings whose date falls in the Monday–Sunday week starting `monday` (all offices). */
export function bookingsInWeek(bookings: Booking[], monday: string): Booking[] {
  return bookings.filter((b) => b.status === "active" && weekStart(b.date) === monday);
}

/** "N bookings remaining this week": the weekly quota minus active bookings that week. */
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
}

export function buildWeek(options: {
  monday: string;
  today: string;
  window: BookableWindow;
  office: Office;
  slots: SlotCounts[];
  bookings: Booking[];
}): DayCell[] {
  const { monday, today, window, office, slots, bookings } = options;
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
    const booking =
      bookings.find((b) => b.status === "active" && b.date === date && b.office.id === office.id) ?? null;
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
    };
  });
}

/** Why the Book buttons of a day are disabled, or null when booking is possible. */
export function bookingBlocker(day: DayCell, remaining: number): string | null {
  if (!day.bookable) return day.isPast ? "This day has passed" : "Not bookable yet";
  if (day.booking) return "You have booked this day";
  if (day.closed) return "Office closed on this day";
  if (day.placesLeft <= 0) return "Office full";
  if (remaining <= 0) return "No bookings left this week";
  return null;
}

/** The owner may cancel until the start of the booking day in the office's time zone. */
export function ownerCanCancel(booking: Booking, now: Date = new Date()): boolean {
  if (booking.status !== "active") return false;
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
