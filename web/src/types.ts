// The API contract of SPEC §9, as the web app uses it.
import type { components } from "./api-types";

// Generated from the gateway's OpenAPI document (src/api-types.ts: `python -m tools.api_types`).
type Schemas = components["schemas"];

/** Every error answer: branch on `code` (SPEC §18), show `message` and `reference`. */
export type ErrorBody = Schemas["ErrorBody"];

export type AppConfig = Schemas["ConfigResponse"] & Partial<Schemas["LoginMethods"]> & {
  /** Optional: true when the server runs in local development mode (codes in the dev mailbox). */
  local_development?: boolean;
  /** Optional: where the development mailbox can be read. */
  dev_mailbox_url?: string | null;
};

export type RoleName = Schemas["Role"]["name"];
export type Permissions = Schemas["Permissions"];
export type User = Schemas["User"];
export type Office = Schemas["Office"];
export type Slot = Schemas["Slot"];
export type OfficeWithSlots = Schemas["OfficeWithSlots"];
/** One office-day's effective capacity and override (SPEC §15). */
export type Day = Schemas["Day"];
export type Booking = Schemas["Booking"];
export type Pass = Schemas["PassResponse"];
export type VerifyResult = Schemas["VerifyPassResponse"];
export type PassStatus = VerifyResult["status"];
export type UserPage = Schemas["UserPage"];
export type StatsRow = Schemas["StatsRow"];
export type AuditRecord = Schemas["AuditRecord"];
export type AuditPage = Schemas["AuditPage"];
/** How an office gives out its places (SPEC §13): first come, or a ballot drawn ahead of each day. */
export type Allocation = NonNullable<Office["allocation"]>;
/** A place in an office-day's queue (SPEC §12); `position` 1 = next while waiting. */
export type WaitlistEntry = Schemas["WaitlistEntry"];
export type WaitlistRequest = Schemas["WaitlistRequest"];

export interface AvailabilityEvent {
  office: string;
  date: string;
  booked: number;
  booked_parking: number;
  /** Sent when a day override changed (SPEC §15): the day's effective capacity. */
  quota?: number;
  parking_quota?: number;
  closed?: boolean;
  note?: string | null;
}

/** A `waitlist` server-sent event, to the signed-in user only (SPEC §12, §13): their entry moved
 * ("waiting" with its new position), became a booking ("promoted", "won": `booking_id`), or left
 * the queue ("expired", "cancelled", "left"). A ballot's loser gets "waiting" with its position. */
export interface WaitlistEvent {
  id: string | null;
  office: string;
  date: string;
  status: "waiting" | "promoted" | "won" | "expired" | "cancelled" | "left";
  position: number | null;
  booking_id: string | null;
}

/** Regular office days (SPEC §14): a weekly pattern booked as its dates enter the window. */
export type RecurringRequest = Schemas["RecurringRequest"];
export type RecurringPattern = Schemas["RecurringPattern"];
/** What happened to one date of a pattern: booked, requested (ballot), refused (with the rule's
 * `message` and `code`) or pending (being decided). */
export type OccurrenceResult = Schemas["OccurrenceResult"];
export type OccurrenceStatus = OccurrenceResult["status"];
/** "I'm away": cancel one's own bookings from … to (SPEC §14). */
export type RangeCancelRequest = Schemas["RangeCancelRequest"];
export type RangeCancelResult = Schemas["RangeCancelResponse"];
export type KeptBooking = Schemas["KeptBooking"];
/** The secret calendar feed URL, shown once (only its hash is stored). */
export type CalendarUrl = Schemas["CalendarUrl"];
