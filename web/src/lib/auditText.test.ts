import { describe, expect, it } from "vitest";
import { describeRecord, personName } from "./auditText";
import type { AuditRecord } from "../types";

const JANE = "jane.doe@my-company.example";
const ADMIN = "admin@my-company.example";
const booking = (extra: Record<string, unknown> = {}) => ({
  id: "b1", user: JANE, office: { id: "alpha", name: "Office Alpha" }, date: "2024-12-03", parking: false,
  status: "active", created_at: "2024-11-28T10:00:00Z", cancellable_until: "2024-12-03T00:00:00+00:00",
  checked_in_at: null, ...extra,
});
const record = (action: string, fields: Partial<AuditRecord>): AuditRecord => ({
  id: "1", at: "2024-12-03T09:12:00Z", actor: JANE, action, entity: "booking", entity_id: "b1", office: "alpha",
  before: null, after: null, ...fields,
});
const ctx = {
  officeName: (id: string) => ({ alpha: "Office Alpha" })[id] ?? id,
  officeZone: () => "Europe/London",
};

describe("describeRecord", () => {
  it.each<[string, AuditRecord, string]>([
    ["own booking with parking", record("booking_created", { after: booking({ parking: true }) }),
      "Jane Doe booked Office Alpha for Tue 3 Dec, with parking"],
    ["booking on behalf", record("booking_created", { actor: ADMIN, after: booking() }),
      "Admin booked Office Alpha for Tue 3 Dec on behalf of Jane Doe"],
    ["own cancellation", record("booking_cancelled", { before: booking(), after: booking({ status: "cancelled" }) }),
      "Jane Doe cancelled their booking at Office Alpha for Tue 3 Dec"],
    ["cancelled by an admin", record("booking_cancelled", { actor: ADMIN, after: booking({ status: "cancelled" }) }),
      "Admin cancelled Jane Doe's booking at Office Alpha for Tue 3 Dec"],
    ["check-in at the door", record("booking_checked_in", { after: booking({ checked_in_at: "2024-12-03T09:12:00Z" }) }),
      "Jane Doe checked in at Office Alpha at 09:12"],
    ["check-in by a pass scan", record("booking_checked_in", {
      actor: "guard@my-company.example", after: booking({ checked_in_at: "2024-12-03T08:05:00Z" }) }),
      "Jane Doe checked in at Office Alpha at 08:05 (pass checked by Guard)"],
    ["automatic release", record("booking_released", {
      actor: "system", after: booking({ status: "released", released_at: "2024-12-03T10:30:00Z" }) }),
      "Jane Doe's booking at Office Alpha for Tue 3 Dec was released: no check-in by 10:30"],
    ["I'm not coming", record("booking_released", { after: booking({ status: "released" }) }),
      "Jane Doe released their booking at Office Alpha for Tue 3 Dec (not coming)"],
    ["office quota lowered", record("office_updated", {
      actor: ADMIN, entity: "office", entity_id: "alpha",
      before: { id: "alpha", name: "Office Alpha", quota: 100, parking_quota: 60, timezone: "Europe/London", retired: false },
      after: { id: "alpha", name: "Office Alpha", quota: 80, parking_quota: 60, timezone: "Europe/London", retired: false } }),
      "Office Alpha: quota 100 → 80 (by Admin)"],
    ["office retired", record("office_updated", {
      actor: ADMIN, entity: "office", entity_id: "alpha",
      before: { name: "Office Alpha", retired: false }, after: { name: "Office Alpha", retired: true } }),
      "Admin retired Office Alpha"],
    ["office created", record("office_created", {
      actor: ADMIN, entity: "office", entity_id: "gamma", after: { name: "Office Gamma", quota: 20, parking_quota: 0 } }),
      "Admin created Office Gamma: 20 places, 0 parking spaces"],
    ["sign-in", record("user_signed_in", { entity: "user", entity_id: JANE, office: null }), "Jane Doe signed in"],
    ["user made Office Admin", record("user_changed", {
      actor: ADMIN, entity: "user", entity_id: JANE, office: null,
      before: { quota: null, role: "Default", offices: [], auto_approved: false },
      after: { quota: 3, role: "Office Admin", offices: ["alpha"], auto_approved: true } }),
      "Admin changed Jane Doe: weekly quota default → 3, role Default → Office Admin (alpha), auto-approval on"],
    ["user prepared", record("user_changed", {
      actor: ADMIN, entity: "user", entity_id: JANE, office: null,
      after: { quota: 2, role: "Default", offices: [], auto_approved: false } }),
      "Admin prepared the profile of Jane Doe: weekly quota 2"],
    ["day closed", record("day_changed", {
      actor: ADMIN, entity: "office_day", entity_id: "alpha/2024-12-03",
      after: { quota: null, parking_quota: null, closed: true, note: "Boiler repairs" } }),
      "Admin closed Office Alpha on Tue 3 Dec: “Boiler repairs”"],
    ["day quota", record("day_changed", {
      actor: ADMIN, entity: "office_day", entity_id: "alpha/2024-12-03",
      after: { quota: 80, parking_quota: 10, closed: false, note: null } }),
      "Admin changed Office Alpha on Tue 3 Dec: places 80, parking 10"],
    ["day reopened", record("day_changed", {
      actor: ADMIN, entity: "office_day", entity_id: "alpha/2024-12-03",
      before: { quota: null, parking_quota: null, closed: true, note: "x" },
      after: { quota: null, parking_quota: null, closed: false, note: "x" } }),
      "Admin reopened Office Alpha on Tue 3 Dec"],
    ["day override removed", record("day_changed", {
      actor: ADMIN, entity: "office_day", entity_id: "alpha/2024-12-03",
      before: { quota: 5, parking_quota: null, closed: false, note: null } }),
      "Admin removed the day override of Office Alpha on Tue 3 Dec: the office's own capacity again"],
    ["erased bookings", record("user_bookings_erased", { actor: ADMIN, entity: "user", entity_id: "erased-1", after: { bookings: 2 } }),
      "2 bookings of an erased user were deleted"],
    ["unknown action", record("thing_happened", { entity: "thing", entity_id: "t1" }),
      "Jane Doe: thing happened (thing t1)"],
  ])("%s", (_name, r, sentence) => {
    expect(describeRecord(r, ctx)).toBe(sentence);
  });

  it("names people from their address, and the system", () => {
    expect(personName("mary-ann.o_neil@x.example")).toBe("Mary Ann O Neil");
    expect(personName("system")).toBe("The system");
    expect(personName(null)).toBe("The system");
    expect(personName("erased-0123abcd")).toBe("An erased user");
  });
});
