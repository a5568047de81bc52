import type { StatsRow } from "../types";

export interface StatsTotals {
  bookings: number;
  parking: number;
}

export function totals(rows: StatsRow[]): StatsTotals {
  return rows.reduce((t, r) => ({ bookings: t.bookings + r.bookings, parking: t.parking + r.parking }), {
    bookings: 0,
    parking: 0,
  });
}

export function officesIn(rows: StatsRow[]): string[] {
  return [...new Set(rows.map((r) => r.office))];
}

export function rowsFor(rows: StatsRow[], office: string): StatsRow[] {
  return rows.filter((r) => r.office === office).sort((a, b) => a.date.localeCompare(b.date));
}
