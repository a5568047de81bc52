import { describe, expect, it } from "vitest";
import type { Booking, Office } from "../types";
import {
  applyAvailability, availabilityLevel, bookableWindow, bookingBlocker, buildWeek, clampWeek, mergeSlots, ownerCanCancel,
  remainingInWeek, splitByDate, weekNavigation,
} from "./calendar";

const office: Office = { id: "alpha", name: "Office Alpha", quota: 10, parking_quota: 4, timezone: "Europe/London", retired: false };

let n = 0;
function booking(date: string, extra: Partial<Booking> = {}): Booking {
  n += 1;
  return {
    id: `b${n}`,
    user: "ann@my-company.example",
    office: { id: "alpha", name: "Office Alpha" },
    date,
    parking: false,
    status: "active",
    created_at: "2025-03-01T10:00:00Z",
    cancellable_until: `${date}T00:00:00+00:00`,
    checked_in_at: null,
    ...extra,
  };
}

describe("remaining bookings this week", () => {
  it("counts active bookings in the Monday–Sunday week, in every office", () => {
    const bookings = [
      booking("2025-03-03"),
      booking("2025-03-09", { office: { id: "beta", name: "Office Beta" } }), // Sunday, same week
      booking("2025-03-10"), // next week
      booking("2025-03-02"), // previous week (Sunday)
      booking("2025-03-05", { status: "cancelled" }), // cancelled does not count
    ];
    expect(remainingInWeek(bookings, "2025-03-03", 3)).toBe(1);
    expect(remainingInWeek(bookings, "2025-03-10", 3)).toBe(2);
    expect(remainingInWeek(bookings, "2025-02-24", 3)).toBe(2);
  });

  it("never goes below zero and handles a quota of 0", () => {
    const bookings = [booking("2025-03-03"), booking("2025-03-04")];
    expect(remainingInWeek(bookings, "2025-03-03", 1)).toBe(0);
    expect(remainingInWeek([], "2025-03-03", 0)).toBe(0);
  });
});

describe("bookable window and week navigation", () => {
  it("runs from today for advance_booking_days days", () => {
    expect(bookableWindow("2025-03-05", 14)).toEqual({ first: "2025-03-05", last: "2025-03-18" });
    expect(bookableWindow("2025-03-05", 1)).toEqual({ first: "2025-03-05", last: "2025-03-05" });
  });

  it("moves between the weeks that hold bookable days", () => {
    const window = bookableWindow("2025-03-05", 14); // Wed 5 … Tue 18 March
    expect(weekNavigation("2025-03-03", window)).toEqual({ canGoBack: false, canGoForward: true });
    expect(weekNavigation("2025-03-10", window)).toEqual({ canGoBack: true, canGoForward: true });
    expect(weekNavigation("2025-03-17", window)).toEqual({ canGoBack: true, canGoForward: false });
    expect(clampWeek("2025-03-24", window)).toBe("2025-03-17");
    expect(clampWeek("2025-02-24", window)).toBe("2025-03-03");
  });

  it("on a Sunday shows the current week and the next two", () => {
    const window = bookableWindow("2025-03-09", 14); // Sun 9 … Sat 22 March
    expect(weekNavigation("2025-03-03", window).canGoForward).toBe(true);
    expect(weekNavigation("2025-03-17", window).canGoForward).toBe(false);
  });
});

describe("the days of a week", () => {
  const window = bookableWindow("2025-03-05", 14);
  const slots = [
    { date: "2025-03-05", booked: 10, booked_parking: 4 },
    { date: "2025-03-06", booked: 3, booked_parking: 1 },
    { date: "2025-03-07", booked: 8, booked_parking: 0 },
  ];

  it("greys past days, highlights today and shows places left", () => {
    const days = buildWeek({ monday: "2025-03-03", today: "2025-03-05", window, office, slots, bookings: [] });
    expect(days.map((d) => d.date)).toEqual([
      "2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07", "2025-03-08", "2025-03-09",
    ]);
    expect(days[0]).toMatchObject({ isPast: true, bookable: false, isToday: false });
    expect(days[2]).toMatchObject({ isToday: true, bookable: true, placesLeft: 0, parkingLeft: 0, level: "full" });
    expect(days[3]).toMatchObject({ placesLeft: 7, parkingLeft: 3, level: "high", parkingLevel: "high" });
    expect(days[4]).toMatchObject({ placesLeft: 2, level: "low" });
    expect(days[5]).toMatchObject({ placesLeft: 10, bookable: true }); // no slot yet: empty
  });

  it("greys days after the window and every day of a retired office", () => {
    const later = buildWeek({ monday: "2025-03-17", today: "2025-03-05", window, office, slots, bookings: [] });
    expect(later.map((d) => d.bookable)).toEqual([true, true, false, false, false, false, false]);
    const retired = buildWeek({ monday: "2025-03-03", today: "2025-03-05", window, office: { ...office, retired: true }, slots, bookings: [] });
    expect(retired.some((d) => d.bookable)).toBe(false);
  });

  it("attaches the user's active booking at this office", () => {
    const mine = booking("2025-03-06", { parking: true });
    const elsewhere = booking("2025-03-07", { office: { id: "beta", name: "Office Beta" } });
    const cancelled = booking("2025-03-08", { status: "cancelled" });
    const days = buildWeek({ monday: "2025-03-03", today: "2025-03-05", window, office, slots, bookings: [mine, elsewhere, cancelled] });
    expect(days[3].booking?.id).toBe(mine.id);
    expect(days[4].booking).toBeNull();
    expect(days[5].booking).toBeNull();
  });

  it("explains why a day cannot be booked", () => {
    const days = buildWeek({ monday: "2025-03-03", today: "2025-03-05", window, office, slots, bookings: [booking("2025-03-07")] });
    expect(bookingBlocker(days[0], 1)).toBe("This day has passed");
    expect(bookingBlocker(days[2], 1)).toBe("Office full");
    expect(bookingBlocker(days[3], 0)).toBe("No bookings left this week");
    expect(bookingBlocker(days[3], 1)).toBeNull();
    expect(bookingBlocker(days[4], 1)).toBe("You have booked this day");
  });
});

describe("colour scale", () => {
  it("maps free share to a level", () => {
    expect(availabilityLevel(60, 100)).toBe("high");
    expect(availabilityLevel(50, 100)).toBe("medium");
    expect(availabilityLevel(21, 100)).toBe("medium");
    expect(availabilityLevel(20, 100)).toBe("low");
    expect(availabilityLevel(1, 100)).toBe("low");
    expect(availabilityLevel(0, 100)).toBe("full");
    expect(availabilityLevel(0, 0)).toBe("none");
  });
});

describe("cancellation and listing", () => {
  it("lets the owner cancel until the start of the day", () => {
    const b = booking("2025-03-06", { cancellable_until: "2025-03-06T00:00:00+00:00" });
    expect(ownerCanCancel(b, new Date("2025-03-05T23:59:59Z"))).toBe(true);
    expect(ownerCanCancel(b, new Date("2025-03-06T00:00:00Z"))).toBe(false);
    expect(ownerCanCancel({ ...b, status: "cancelled" }, new Date("2025-03-01T00:00:00Z"))).toBe(false);
  });

  it("respects the office's offset", () => {
    const b = booking("2025-07-06", { cancellable_until: "2025-07-06T00:00:00+01:00" }); // London summer
    expect(ownerCanCancel(b, new Date("2025-07-05T22:59:00Z"))).toBe(true);
    expect(ownerCanCancel(b, new Date("2025-07-05T23:00:00Z"))).toBe(false);
  });

  it("splits upcoming and previous bookings", () => {
    const list = [booking("2025-03-01"), booking("2025-03-10"), booking("2025-03-05"), booking("2025-02-20")];
    const { upcoming, previous } = splitByDate(list, "2025-03-05");
    expect(upcoming.map((b) => b.date)).toEqual(["2025-03-05", "2025-03-10"]);
    expect(previous.map((b) => b.date)).toEqual(["2025-03-01", "2025-02-20"]);
  });
});

describe("live updates and re-reads", () => {
  const shown = [
    { date: "2025-03-05", booked: 4, booked_parking: 1 },
    { date: "2025-03-06", booked: 2, booked_parking: 0 },
  ];

  it("applies an availability event to its day", () => {
    expect(applyAvailability(shown, { date: "2025-03-06", booked: 3, booked_parking: 1 })).toEqual([
      shown[0],
      { date: "2025-03-06", booked: 3, booked_parking: 1 },
    ]);
  });

  it("keeps a day's live counts when the event is newer than the read", () => {
    const fresh = [
      { date: "2025-03-05", booked: 5, booked_parking: 1 },
      { date: "2025-03-06", booked: 9, booked_parking: 9 }, // read before the event of the 6th
    ];
    const merged = mergeSlots(fresh, shown, (date) => date === "2025-03-06");
    expect(merged).toEqual([fresh[0], shown[1]]);
    expect(mergeSlots(fresh, null, () => true)).toBe(fresh);
  });
});
