// The admin stats page (SPEC §6, §11): a pivot of days × offices with utilisation, and the totals
// per day its bar chart shows. Pure functions, tested in statsPivot.test.ts.
import type { StatsRow } from "../types";

/** A stats row; `checked_in` once the server reports check-ins (SPEC §11). */
export type StatsInput = StatsRow & { checked_in?: number | null };

/** What a cell's utilisation counts: people who checked in (a day that has started, once the
 * server reports check-ins), or bookings (days ahead, or a server without check-in figures). */
export type Basis = "checked_in" | "booked";

export interface PivotCell {
  office: string;
  date: string;
  bookings: number;
  parking: number;
  checkedIn: number | null;
  quota: number;
  used: number;
  basis: Basis;
  /** used / quota, 0…1 (above 1 when a lowered quota keeps more bookings); null without a quota. */
  utilisation: number | null;
}

export interface Pivot {
  dates: string[];
  offices: string[];
  cells: Map<string, PivotCell>;
  /** Days left out because nobody booked any office shown that day. */
  hiddenDays: number;
  /** Whether the server reports check-ins (`checked_in` in GET /api/stats). */
  hasCheckIns: boolean;
}

export const cellKey = (office: string, date: string) => `${office}|${date}`;

export function utilisation(used: number, quota: number): number | null {
  return quota > 0 ? used / quota : null;
}

/** "45%", "—" without a quota. */
export function formatPercent(value: number | null): string {
  return value === null ? "—" : `${Math.round(value * 100)}%`;
}

/**
 * Rows of GET /api/stats as days × offices. `quotas` are the offices' places per day; `today` decides
 * which days count check-ins (today and before) and which count bookings (after). Days with no
 * booking in any office shown are left out unless `showEmpty`.
 */
export function buildPivot(rows: StatsInput[], quotas: Record<string, number>, today: string, showEmpty = false): Pivot {
  const hasCheckIns = rows.some((r) => typeof r.checked_in === "number");
  const offices = [...new Set(rows.map((r) => r.office))];
  const cells = new Map<string, PivotCell>();
  const busy = new Set<string>();
  for (const r of rows) {
    const checkedIn = typeof r.checked_in === "number" ? r.checked_in : null;
    const basis: Basis = hasCheckIns && r.date <= today ? "checked_in" : "booked";
    const used = basis === "checked_in" ? (checkedIn ?? 0) : r.bookings;
    const quota = quotas[r.office] ?? 0;
    cells.set(cellKey(r.office, r.date), {
      office: r.office, date: r.date, bookings: r.bookings, parking: r.parking, checkedIn, quota, used, basis,
      utilisation: utilisation(used, quota),
    });
    if (r.bookings > 0 || (checkedIn ?? 0) > 0) busy.add(r.date);
  }
  const allDates = [...new Set(rows.map((r) => r.date))].sort();
  const dates = showEmpty ? allDates : allDates.filter((d) => busy.has(d));
  return { dates, offices, cells, hiddenDays: allDates.length - dates.length, hasCheckIns };
}

export interface DayTotal {
  date: string;
  used: number;
  quota: number;
  bookings: number;
  basis: Basis;
  utilisation: number | null;
}

/** Per day of the pivot, over its offices: what the chart draws. */
export function dayTotals(pivot: Pivot): DayTotal[] {
  return pivot.dates.map((date) => {
    let used = 0;
    let quota = 0;
    let bookings = 0;
    let basis: Basis = "booked";
    for (const office of pivot.offices) {
      const cell = pivot.cells.get(cellKey(office, date));
      if (!cell) continue;
      used += cell.used;
      quota += cell.quota;
      bookings += cell.bookings;
      basis = cell.basis;
    }
    return { date, used, quota, bookings, basis, utilisation: utilisation(used, quota) };
  });
}
