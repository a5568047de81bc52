// One plain sentence per audit record (the admin audit page, SPEC §6 / §8): who did what, to whom,
// where and when, from the record's envelope. The raw before/after stay behind "Details".
import type { AuditRecord } from "../types";
import { formatShortDate, formatTime } from "./dates";

export interface AuditContext {
  /** Office id → display name (the id when unknown). */
  officeName?: (id: string) => string;
  /** Office id → IANA time zone (times are shown in the office's zone). */
  officeZone?: (id: string) => string | undefined;
}

type Fields = Record<string, unknown>;

/** "jane.doe@my-company.example" → "Jane Doe"; "system" and "config" stay as they are. */
export function personName(email: string | null | undefined): string {
  if (!email) return "The system";
  if (email === "system") return "The system";
  if (email === "config") return "The configuration";
  if (email === "selftest") return "The self-test";
  if (email.startsWith("erased-")) return "An erased user";
  const local = email.split("@")[0] ?? email;
  const words = local.split(/[._-]+/).filter(Boolean);
  if (words.length === 0) return email;
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(" ");
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const obj = (v: unknown): Fields | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Fields) : null);

function bookingOf(record: AuditRecord): Fields | null {
  return obj(record.after) ?? obj(record.before);
}

function officeLabel(record: AuditRecord, ctx: AuditContext, booking?: Fields | null): string {
  const office = obj(booking?.office);
  const id = str(office?.id) ?? record.office ?? "";
  return str(office?.name) ?? ctx.officeName?.(id) ?? id;
}

function dayLabel(value: unknown): string {
  const day = str(value);
  return day && /^\d{4}-\d{2}-\d{2}$/.test(day) ? formatShortDate(day) : (day ?? "an unknown day");
}

function quotaText(v: unknown, unit: string): string {
  return v === null || v === undefined ? "default" : `${String(v)}${unit}`;
}

function roleText(v: unknown, offices: unknown): string {
  const name = str(v) ?? "Default";
  const list = Array.isArray(offices) ? offices.filter((o) => typeof o === "string") : [];
  return name === "Office Admin" && list.length ? `Office Admin (${list.join(", ")})` : name;
}

function yesNo(v: unknown): string {
  return v ? "on" : "off";
}

/** "quota 100 → 80, parking spaces 60 → 50" for the fields that changed. */
function changes(before: Fields | null, after: Fields | null, labels: [string, string, (v: unknown) => string][]): string[] {
  const out: string[] = [];
  for (const [key, label, show] of labels) {
    const a = before?.[key] ?? null;
    const b = after?.[key] ?? null;
    if (!before && (b === null || b === "")) continue; // nothing set: not worth a word
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(before ? `${label} ${show(a)} → ${show(b)}` : `${label} ${show(b)}`);
  }
  return out;
}

const plain = (v: unknown) => (v === null || v === undefined || v === "" ? "none" : String(v));

export function describeRecord(record: AuditRecord, ctx: AuditContext = {}): string {
  const actor = personName(record.actor);
  const before = obj(record.before);
  const after = obj(record.after);
  switch (record.action) {
    case "booking_created": {
      const b = bookingOf(record);
      const user = str(b?.user);
      const onBehalf = user && user !== record.actor ? ` on behalf of ${personName(user)}` : "";
      return `${actor} booked ${officeLabel(record, ctx, b)} for ${dayLabel(b?.date)}${onBehalf}${b?.parking ? ", with parking" : ""}`;
    }
    case "booking_cancelled": {
      const b = bookingOf(record);
      const user = str(b?.user);
      const whose = user && user !== record.actor ? `${personName(user)}'s booking` : "their booking";
      return `${actor} cancelled ${whose} at ${officeLabel(record, ctx, b)} for ${dayLabel(b?.date)}`;
    }
    case "booking_checked_in": {
      const b = bookingOf(record);
      const user = str(b?.user);
      const zone = ctx.officeZone?.(record.office ?? "");
      const time = formatTime(str(b?.checked_in_at) ?? record.at, zone);
      const by = user && record.actor && user !== record.actor ? ` (pass checked by ${actor})` : "";
      return `${personName(user ?? record.actor)} checked in at ${officeLabel(record, ctx, b)} at ${time}${by}`;
    }
    case "booking_released": {
      const b = bookingOf(record);
      const user = str(b?.user);
      const where = `${officeLabel(record, ctx, b)} for ${dayLabel(b?.date)}`;
      if (!record.actor || record.actor === "system") {
        const zone = ctx.officeZone?.(record.office ?? "");
        const time = formatTime(str(b?.released_at) ?? record.at, zone);
        return `${personName(user)}'s booking at ${where} was released: no check-in by ${time}`;
      }
      const whose = user && user !== record.actor ? `${personName(user)}'s booking` : "their booking";
      return `${actor} released ${whose} at ${where} (not coming)`;
    }
    case "office_created": {
      const name = str(after?.name) ?? record.entity_id;
      return `${actor} created ${name}: ${plain(after?.quota)} places, ${plain(after?.parking_quota)} parking spaces`;
    }
    case "office_updated": {
      const name = str(after?.name) ?? str(before?.name) ?? record.entity_id;
      if (before && after && before.retired !== after.retired) {
        return `${actor} ${after.retired ? "retired" : "un-retired"} ${name}`;
      }
      const list = changes(before, after, [
        ["name", "name", plain],
        ["quota", "quota", plain],
        ["parking_quota", "parking", plain],
        ["timezone", "time zone", plain],
        ["check_in_deadline", "check-in deadline", plain],
      ]);
      return `${name}: ${list.length ? list.join(", ") : "saved without changes"} (by ${actor})`;
    }
    case "day_changed": {
      const [office, date] = record.entity_id.split("/");
      const where = `${ctx.officeName?.(office) ?? office} on ${dayLabel(date)}`;
      const note = str(after?.note);
      if (!after) return `${actor} removed the day override of ${where}: the office's own capacity again`;
      if (after.closed && !before?.closed) return `${actor} closed ${where}${note ? `: “${note}”` : ""}`;
      if (!after.closed && before?.closed) return `${actor} reopened ${where}`;
      const list = changes(before, after, [
        ["quota", "places", (v) => (v === null ? "the office's" : String(v))],
        ["parking_quota", "parking", (v) => (v === null ? "the office's" : String(v))],
        ["note", "note", plain],
      ]);
      return `${actor} changed ${where}: ${list.length ? list.join(", ") : "no change"}`;
    }
    case "user_signed_in":
      return `${actor} signed in`;
    case "login_code_issued":
      return `A sign-in code was sent to ${record.entity_id}`;
    case "session_revoked":
      return `${actor} ended a session (signed out)`;
    case "user_changed": {
      const user = personName(record.entity_id);
      const list = changes(before, after, [["quota", "weekly quota", (v) => quotaText(v, "")]]);
      const roleBefore = before ? roleText(before.role, before.offices) : null;
      const roleAfter = roleText(after?.role, after?.offices);
      if (roleBefore === null ? roleAfter !== "Default" : roleBefore !== roleAfter) {
        list.push(roleBefore === null ? `role ${roleAfter}` : `role ${roleBefore} → ${roleAfter}`);
      }
      if (Boolean(before?.auto_approved) !== Boolean(after?.auto_approved)) {
        list.push(`auto-approval ${yesNo(after?.auto_approved)}`);
      }
      const verb = before ? `changed ${user}` : `prepared the profile of ${user}`;
      return `${actor} ${verb}${list.length ? `: ${list.join(", ")}` : ""}`;
    }
    case "user_erased":
      return `${actor} erased a user (now ${record.entity_id})`;
    case "user_bookings_erased": {
      const n = Number(after?.bookings ?? 0);
      return `${n} booking${n === 1 ? "" : "s"} of an erased user ${n === 1 ? "was" : "were"} deleted`;
    }
    default:
      return `${actor}: ${record.action.replace(/_/g, " ")} (${record.entity} ${record.entity_id})`;
  }
}
