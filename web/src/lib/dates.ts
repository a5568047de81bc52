// Calendar dates as ISO strings ("YYYY-MM-DD"). A booking is for a whole day in the office's time
// zone, so dates are never converted through the browser's own time zone: arithmetic is done on
// UTC midnights, and "today" is read in the office's zone.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

function toUtc(iso: string): Date {
  const m = ISO_DATE.exec(iso);
  if (!m) throw new Error(`Not a date: ${iso}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
}

function fromUtc(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The calendar date at `now` in the IANA `timeZone`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export function addDays(iso: string, days: number): string {
  const d = toUtc(iso);
  d.setUTCDate(d.getUTCDate() + days);
  return fromUtc(d);
}

/** Days from `a` to `b` (positive when b is later). */
export function daysBetween(a: string, b: string): number {
  return Math.round((toUtc(b).getTime() - toUtc(a).getTime()) / 86_400_000);
}

/** 0 = Monday … 6 = Sunday. */
export function dayOfWeek(iso: string): number {
  return (toUtc(iso).getUTCDay() + 6) % 7;
}

/** The Monday of the Monday–Sunday week that contains `iso`. */
export function weekStart(iso: string): string {
  return addDays(iso, -dayOfWeek(iso));
}

/** The seven dates Monday … Sunday of the week starting `monday`. */
export function weekDates(monday: string): string[] {
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i));
}

const fmt = (options: Intl.DateTimeFormatOptions) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", ...options });

export function weekdayName(iso: string): string {
  return fmt({ weekday: "long" }).format(toUtc(iso));
}

/** "3 March 2025" */
export function formatDate(iso: string): string {
  return fmt({ day: "numeric", month: "long", year: "numeric" }).format(toUtc(iso));
}

/** "Monday 3 March 2025" */
export function formatLongDate(iso: string): string {
  return `${weekdayName(iso)} ${formatDate(iso)}`;
}

/** "Mon 3 Mar" */
export function formatShortDate(iso: string): string {
  return fmt({ weekday: "short", day: "numeric", month: "short" }).format(toUtc(iso));
}

/** "3 – 9 March 2025" or "28 April – 4 May 2025" for the week starting `monday`. */
export function formatWeekRange(monday: string): string {
  const sunday = addDays(monday, 6);
  const a = toUtc(monday);
  const b = toUtc(sunday);
  if (a.getUTCFullYear() !== b.getUTCFullYear()) return `${formatDate(monday)} – ${formatDate(sunday)}`;
  if (a.getUTCMonth() !== b.getUTCMonth()) {
    return `${fmt({ day: "numeric", month: "long" }).format(a)} – ${formatDate(sunday)}`;
  }
  return `${a.getUTCDate()} – ${formatDate(sunday)}`;
}

/** A timestamp shown to people, in `timeZone` when given (else the browser's). */
export function formatDateTime(timestamp: string | null | undefined, timeZone?: string): string {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(date);
}

/** "14:05" */
export function formatTime(timestamp: string | null | undefined, timeZone?: string): string {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit" }).format(date);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** "Friday 7 March at 12:00": a moment (ISO, any offset) as the clock and calendar of `timeZone`
 * showed it, e.g. when a ballot office's day is drawn (SPEC §13). */
export function formatMoment(timestamp: string | null | undefined, timeZone?: string): string {
  if (!timestamp) return "";
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  const day = new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "long", day: "numeric", month: "long" }).format(date);
  const time = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
  return `${day.replace(",", "")} at ${time}`;
}

/** The wall-clock time "HH:MM" at `now` in `timeZone`. */
export function timeIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${get("hour")}:${get("minute")}`;
}
