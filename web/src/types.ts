// The API contract of SPEC §9, as the web app uses it.

export interface AppConfig {
  version: string;
  email_regex: string;
  advance_booking_days: number;
  reason_to_book_required: boolean;
  show_test_banner: boolean;
  /** Optional: true when the server runs in local development mode (codes in the dev mailbox). */
  local_development?: boolean;
  /** Optional: where the development mailbox can be read. */
  dev_mailbox_url?: string | null;
}

export type RoleName = "Default" | "Office Admin" | "System Admin";

export interface Permissions {
  can_view_admin: boolean;
  can_view_users: boolean;
  can_edit_users: boolean;
  can_manage_all_bookings: boolean;
  can_manage_offices: boolean;
  offices_can_manage: string[];
}

export interface User {
  email: string;
  role: { name: RoleName; offices: string[] };
  quota: number;
  custom_quota: boolean;
  auto_approved: boolean;
  permissions: Permissions;
}

export interface Office {
  id: string;
  name: string;
  quota: number;
  parking_quota: number;
  timezone: string;
  retired: boolean;
}

export interface Slot {
  date: string;
  booked: number;
  booked_parking: number;
}

export interface OfficeWithSlots extends Office {
  slots: Slot[];
}

export interface Booking {
  id: string;
  user: string;
  office: { id: string; name: string };
  date: string;
  parking: boolean;
  status: "active" | "cancelled";
  created_at: string;
  cancellable_until: string;
  checked_in_at: string | null;
}

export interface Pass {
  booking: Booking;
  code: string;
}

export type PassStatus = "ok" | "wrong_day" | "wrong_office" | "cancelled" | "invalid";

export interface VerifyResult {
  valid: boolean;
  status: PassStatus;
  booking?: Booking | null;
  /** wrong_office only: the office the pass is for (the booking itself is not shown). */
  office?: { id: string; name: string } | null;
  checked_in_at?: string | null;
  /** this scan recorded the check-in; false on a repeat scan. */
  first_check_in?: boolean;
}

export interface UserPage {
  users: User[];
  next_cursor: string | null;
}

export interface StatsRow {
  office: string;
  date: string;
  bookings: number;
  parking: number;
}

export interface AuditRecord {
  id: string;
  at: string;
  actor: string | null;
  action: string;
  entity: string;
  entity_id: string | null;
  office: string | null;
  before: unknown;
  after: unknown;
}

export interface AuditPage {
  records: AuditRecord[];
  next_cursor: string | null;
}

export interface AvailabilityEvent {
  office: string;
  date: string;
  booked: number;
  booked_parking: number;
}
