import { describe, expect, it } from "vitest";
import { buildPivot, cellKey, dayTotals, formatPercent, utilisation, type StatsInput } from "./statsPivot";

const row = (office: string, date: string, bookings: number, extra: Partial<StatsInput> = {}): StatsInput => ({
  office, date, bookings, parking: 0, ...extra,
});

describe("stats pivot", () => {
  it("leaves out days nobody booked, unless asked, and counts them", () => {
    const rows = [row("a", "2026-12-01", 0), row("b", "2026-12-01", 0), row("a", "2026-12-02", 3), row("b", "2026-12-02", 0)];
    const pivot = buildPivot(rows, { a: 10, b: 5 }, "2026-12-05");
    expect(pivot.dates).toEqual(["2026-12-02"]);
    expect(pivot.offices).toEqual(["a", "b"]);
    expect(pivot.hiddenDays).toBe(1);
    expect(buildPivot(rows, { a: 10, b: 5 }, "2026-12-05", true).dates).toEqual(["2026-12-01", "2026-12-02"]);
  });

  it("uses bookings / quota while the server has no check-in figures", () => {
    const pivot = buildPivot([row("a", "2026-12-01", 4)], { a: 10 }, "2026-12-05");
    const cell = pivot.cells.get(cellKey("a", "2026-12-01"))!;
    expect(pivot.hasCheckIns).toBe(false);
    expect([cell.basis, cell.used, cell.utilisation]).toEqual(["booked", 4, 0.4]);
  });

  it.each([
    // date, today, expected basis and used: check-ins for days that started, bookings ahead
    ["2026-12-01", "2026-12-05", "checked_in", 2],
    ["2026-12-05", "2026-12-05", "checked_in", 2],
    ["2026-12-06", "2026-12-05", "booked", 4],
  ])("with checked_in: %s (today %s) counts %s", (date, today, basis, used) => {
    const pivot = buildPivot([row("a", date, 4, { checked_in: 2 })], { a: 8 }, today);
    const cell = pivot.cells.get(cellKey("a", date))!;
    expect([cell.basis, cell.used, cell.utilisation]).toEqual([basis, used, used / 8]);
  });

  it("totals per day across offices, and percentages", () => {
    const rows = [row("a", "2026-12-08", 5), row("b", "2026-12-08", 1)];
    const [total] = dayTotals(buildPivot(rows, { a: 10, b: 10 }, "2026-12-01"));
    expect(total).toEqual({ date: "2026-12-08", used: 6, quota: 20, bookings: 6, basis: "booked", utilisation: 0.3 });
    expect(utilisation(3, 0)).toBeNull();
    expect(formatPercent(null)).toBe("—");
    expect(formatPercent(0.456)).toBe("46%");
    expect(formatPercent(1.2)).toBe("120%");
  });
});
