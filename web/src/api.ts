// The HTTP client of the web app: JSON in and out, the CSRF header on cookie writes, and every
// error turned into an ApiError that carries the server's message and reference (SPEC §10).
import type {
  Allocation, AppConfig, AuditPage, Booking, CalendarUrl, Day, ErrorBody, Office, OfficeWithSlots, Pass,
  RangeCancelRequest, RangeCancelResult, RecurringPattern, RecurringRequest, StatsRow, User, UserPage, VerifyResult,
  WaitlistEntry, WaitlistRequest,
} from "./types";

/** The error's stable kind (SPEC §18): branch on it, never on the message. `network_error`: the
 * server could not be reached; `unknown`: an answer without a code (not from the API). */
export type ErrorCode = ErrorBody["code"] | "network_error" | "unknown";

export class ApiError extends Error {
  readonly status: number;
  readonly reference: string | null;
  /** Seconds to wait, from Retry-After (429). */
  readonly retryAfter: number | null;
  readonly code: ErrorCode;

  constructor(status: number, message: string, reference: string | null = null, retryAfter: number | null = null,
              code: ErrorCode = "unknown") {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.reference = reference;
    this.retryAfter = retryAfter;
    this.code = code;
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function queryString(query?: Query): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "" || value === false) continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function csrfToken(cookies: string = typeof document === "undefined" ? "" : document.cookie): string {
  const match = cookies.match(/(?:^|;\s*)ob_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

let onUnauthorized: (() => void) | null = null;

/** Called when a request of a signed-in user answers 401 (session ended elsewhere or expired). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Do not call the unauthorized handler on 401 (sign-in calls). */
  anonymous?: boolean;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  let response: Response;
  try {
    response = await fetch(`/api${path}${queryString(options.query)}`, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "Could not reach Office Booker. Check your connection and try again.", null, null,
      "network_error");
  }
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const body = (data && typeof data === "object" ? data : {}) as Partial<ErrorBody>;
    const reference = body.reference ?? response.headers.get("X-Reference");
    const retry = response.headers.get("Retry-After");
    const error = new ApiError(
      response.status,
      body.message || response.statusText || `Request failed (${response.status})`,
      reference,
      retry && /^\d+$/.test(retry) ? Number(retry) : null,
      body.code ?? "unknown",
    );
    if (error.code === "unauthorized" && !options.anonymous && onUnauthorized) onUnauthorized();
    throw error;
  }
  return data as T;
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

const enc = encodeURIComponent;

export interface NewBooking {
  user: string;
  office: string;
  date: string;
  parking: boolean;
  reason?: string;
}

export interface BookingQuery extends Query {
  user?: string;
  office?: string;
  date?: string;
  from?: string;
  to?: string;
  include_cancelled?: boolean;
}

export interface UserUpdate {
  quota?: number | null;
  role?: { name: "Default" | "Office Admin"; offices: string[] };
  auto_approved?: boolean;
}

export interface OfficeFields {
  id?: string;
  name?: string;
  quota?: number;
  parking_quota?: number;
  timezone?: string;
  retired?: boolean;
  check_in_deadline?: string | null;
  /** SPEC §13: first come, or a ballot drawn `ballot_draw_days_before` days ahead at `ballot_draw_time`. */
  allocation?: Allocation;
  ballot_draw_days_before?: number;
  ballot_draw_time?: string;
}

/** PUT /api/offices/{id}/days/{date} (SPEC §15): absent fields unchanged; null quota = the office's. */
export interface DayFields {
  quota?: number | null;
  parking_quota?: number | null;
  closed?: boolean;
  note?: string | null;
  cancel_existing?: boolean;
}

export const api = {
  config: async (): Promise<AppConfig> => {
    // In local development the gateway names the development mailbox in a header (the body's
    // fields are a fixed contract).
    const response = await fetch("/api/config", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return request<AppConfig>("GET", "/config", { anonymous: true });
    // SPEC §16's sign-in methods come from their own route (/api/config's body is SPEC §9's exact contract)
    const methods = await request<Partial<AppConfig>>("GET", "/auth/methods", { anonymous: true }).catch(() => ({}));
    const data = { ...((await response.json()) as AppConfig), ...methods };
    const mailbox = response.headers.get("X-Dev-Mailbox");
    return mailbox === null ? data : { ...data, local_development: true, dev_mailbox_url: mailbox || null };
  },
  requestCode: (email: string) => request<null>("POST", "/auth/code", { body: { email }, anonymous: true }),
  verifyCode: (email: string, code: string) =>
    request<{ token: string; user: User }>("POST", "/auth/verify", { body: { email, code }, anonymous: true }),
  logout: () => request<null>("POST", "/auth/logout", { anonymous: true }),
  me: () => request<User>("GET", "/me", { anonymous: true }),

  offices: (includeRetired = false) =>
    request<Office[]>("GET", "/offices", { query: { include_retired: includeRetired } }),
  office: (id: string) => request<OfficeWithSlots>("GET", `/offices/${enc(id)}`),
  createOffice: (fields: OfficeFields) => request<Office>("POST", "/offices", { body: fields }),
  updateOffice: (id: string, fields: OfficeFields) => request<Office>("PUT", `/offices/${enc(id)}`, { body: fields }),
  retireOffice: (id: string) => request<null>("DELETE", `/offices/${enc(id)}`),
  day: (office: string, date: string) => request<Day>("GET", `/offices/${enc(office)}/days/${enc(date)}`),
  setDay: (office: string, date: string, fields: DayFields) =>
    request<Day>("PUT", `/offices/${enc(office)}/days/${enc(date)}`, { body: fields }),
  clearDay: (office: string, date: string) => request<Day>("DELETE", `/offices/${enc(office)}/days/${enc(date)}`),

  bookings: (query: BookingQuery) => request<Booking[]>("GET", "/bookings", { query }),
  /** Active bookings and ballot requests (SPEC §13), without cancelled, released or waitlisted
   * ones. Read with `include_cancelled=true` and filtered here: the booking service's default
   * listing holds active bookings only, leaving requests out. */
  currentBookings: async (query: Omit<BookingQuery, "include_cancelled">) =>
    (await request<Booking[]>("GET", "/bookings", { query: { ...query, include_cancelled: true } })).filter(
      (b) => b.status === "active" || b.status === "requested",
    ),
  createBooking: (booking: NewBooking, idempotencyKey: string = newIdempotencyKey()) =>
    request<Booking>("POST", "/bookings", { body: booking, headers: { "Idempotency-Key": idempotencyKey } }),
  cancelBooking: (id: string) => request<null>("DELETE", `/bookings/${enc(id)}`),
  /** SPEC §12: own waiting entries; admins with `office` and `date`: every user's of that day. */
  waitlist: (query: { office?: string; date?: string } = {}) =>
    request<WaitlistEntry[]>("GET", "/waitlist", { query }),
  joinWaitlist: (entry: WaitlistRequest) => request<WaitlistEntry>("POST", "/waitlist", { body: entry }),
  leaveWaitlist: (id: string) => request<null>("DELETE", `/waitlist/${enc(id)}`),
  /** SPEC §14 "I'm away": the caller's own bookings from … to that they may still cancel; the
   * others are `kept` with the reason. */
  cancelRange: (range: RangeCancelRequest) =>
    request<RangeCancelResult>("POST", "/bookings/cancel-range", { body: range }),
  /** SPEC §14 regular days: own patterns, each with the results of its recent and coming dates. */
  recurring: () => request<RecurringPattern[]>("GET", "/recurring"),
  createRecurring: (pattern: RecurringRequest) => request<RecurringPattern>("POST", "/recurring", { body: pattern }),
  deleteRecurring: (id: string) => request<null>("DELETE", `/recurring/${enc(id)}`),
  /** SPEC §14 calendar feed: a new secret URL (any earlier one stops working); the server keeps
   * only its hash, so it can be shown only now. */
  createCalendarFeed: () => request<CalendarUrl>("POST", "/me/calendar"),
  revokeCalendarFeed: () => request<null>("DELETE", "/me/calendar"),
  pass: (id: string) => request<Pass>("GET", `/bookings/${enc(id)}/pass`),
  verifyPass: (code: string, office: string) =>
    request<VerifyResult>("POST", "/passes/verify", { body: { code, office } }),

  users: (query: Query) => request<UserPage>("GET", "/users", { query }),
  user: (email: string) => request<User>("GET", `/users/${enc(email)}`),
  updateUser: (email: string, update: UserUpdate) => request<User>("PUT", `/users/${enc(email)}`, { body: update }),
  eraseUser: (email: string) => request<null>("DELETE", `/users/${enc(email)}`),

  stats: (query: { from?: string; to?: string } = {}) =>
    request<{ office_dates: StatsRow[] }>("GET", "/stats", { query }),
  statsCsvUrl: (query: { from?: string; to?: string } = {}) => `/api/stats${queryString({ ...query, format: "csv" })}`,
  audit: (query: Query) => request<AuditPage>("GET", "/audit", { query }),
};
