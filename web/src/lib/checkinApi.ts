/** Check-in and release of no-shows (SPEC §11): door codes, door check-ins, "I'm not coming". */
import { request } from "../api";
import type { Booking } from "../types";

export interface DoorCode {
  code: string;
  url: string;
  expires_at: string;
}

export interface CheckinResult {
  booking: Booking;
  first_check_in: boolean;
}

export const checkinApi = {
  doorCode: (office: string) => request<DoorCode>("GET", `/offices/${encodeURIComponent(office)}/door-code`),
  checkIn: (code: string) => request<CheckinResult>("POST", "/checkins", { body: { code } }),
  release: (id: string) => request<Booking>("POST", `/bookings/${encodeURIComponent(id)}/release`),
  releaseLink: (token: string) => request<Booking>("GET", "/release-links", { query: { token }, anonymous: true }),
  useReleaseLink: (token: string) =>
    request<Booking>("POST", "/release-links", { body: { token }, anonymous: true }),
};

/** How long before a door code expires the kiosk fetches the next one (ms). */
export const REFRESH_MARGIN_MS = 20_000;

/** When to fetch the next code: REFRESH_MARGIN_MS before `expires_at`, at least 5 s from now. */
export function refreshDelay(expiresAt: string, now: number = Date.now()): number {
  const at = Date.parse(expiresAt) - REFRESH_MARGIN_MS - now;
  return Math.max(5_000, Number.isFinite(at) ? at : 5_000);
}
