// SPEC §15 on the booking screen: a day's override (capacity, closure, note) shapes its cell.
import { describe, expect, it } from "vitest";
import { applyAvailability, bookableWindow, bookingBlocker, buildWeek } from "./calendar";
import type { Office } from "../types";

const office: Office = { id: "alpha", name: "Office Alpha", quota: 10, parking_quota: 4, timezone: "Europe/London", retired: false };
const window = bookableWindow("2025-03-05", 14);
const slot = (date: string, extra: Record<string, unknown> = {}) => ({
  date, booked: 2, booked_parking: 1, quota: 10, parking_quota: 4, closed: false, note: null, ...extra,
});

describe("day overrides on the booking screen", () => {
  it.each([
    // override, places left, parking left, blocker
    [{}, 8, 3, null],
    [{ quota: 3 }, 1, 3, null],
    [{ quota: 2 }, 0, 3, "Office full"],
    [{ quota: 1 }, 0, 3, "Office full"], // lowered below what is booked
    [{ parking_quota: 0 }, 8, 0, null],
    [{ closed: true, note: "Boiler repairs" }, 0, 0, "Office closed on this day"],
  ])("%o", (override, places, parking, blocker) => {
    const [day] = buildWeek({ monday: "2025-03-03", today: "2025-03-05", window, office, slots: [slot("2025-03-03"),
      slot("2025-03-06", override)], bookings: [] }).filter((d) => d.date === "2025-03-06");
    expect([day.placesLeft, day.parkingLeft, bookingBlocker(day, 1)]).toEqual([places, parking, blocker]);
    expect(day.closed).toBe(Boolean((override as { closed?: boolean }).closed));
    expect(day.note).toBe((override as { note?: string }).note ?? null);
  });

  it("a day override's live event updates the day's capacity and closure", () => {
    const slots = [slot("2025-03-06")];
    expect(applyAvailability(slots, { date: "2025-03-06", booked: 0, booked_parking: 0, closed: true, note: "Strike", quota: 10,
      parking_quota: 4 })[0]).toEqual(slot("2025-03-06", { booked: 0, booked_parking: 0, closed: true, note: "Strike" }));
    // a booking event (counters only) keeps the day's closure
    const closed = [slot("2025-03-06", { closed: true })];
    expect(applyAvailability(closed, { date: "2025-03-06", booked: 1, booked_parking: 0 })[0].closed).toBe(true);
  });
});
