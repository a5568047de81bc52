import { describe, expect, it } from "vitest";
import {
  addDays, dayOfWeek, daysBetween, formatLongDate, formatWeekRange, isIsoDate, todayIn, weekDates, weekStart, weekdayName,
} from "./dates";

describe("week boundaries (Monday to Sunday)", () => {
  it("finds the Monday of any day of the week", () => {
    expect(weekStart("2025-03-03")).toBe("2025-03-03"); // Monday
    expect(weekStart("2025-03-05")).toBe("2025-03-03"); // Wednesday
    expect(weekStart("2025-03-09")).toBe("2025-03-03"); // Sunday belongs to the week before
    expect(weekStart("2025-03-10")).toBe("2025-03-10");
  });

  it("crosses month and year ends", () => {
    expect(weekStart("2025-01-01")).toBe("2024-12-30");
    expect(weekDates("2024-12-30")).toEqual([
      "2024-12-30", "2024-12-31", "2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04", "2025-01-05",
    ]);
    expect(weekStart("2024-03-01")).toBe("2024-02-26"); // leap year
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
    expect(addDays("2023-02-28", 1)).toBe("2023-03-01");
  });

  it("is not moved by daylight saving changes", () => {
    // Europe/London and US clocks change on these weekends; date arithmetic must not.
    expect(weekDates("2025-03-24")).toEqual([
      "2025-03-24", "2025-03-25", "2025-03-26", "2025-03-27", "2025-03-28", "2025-03-29", "2025-03-30",
    ]);
    expect(addDays("2025-10-26", 1)).toBe("2025-10-27");
    expect(daysBetween("2025-03-29", "2025-03-31")).toBe(2);
  });

  it("numbers weekdays from Monday", () => {
    expect(dayOfWeek("2025-03-03")).toBe(0);
    expect(dayOfWeek("2025-03-09")).toBe(6);
  });
});

describe("today in the office's time zone", () => {
  const instant = new Date("2025-03-09T23:30:00Z"); // Sunday 23:30 in London

  it("depends on the office, not on the browser", () => {
    expect(todayIn("Europe/London", instant)).toBe("2025-03-09");
    expect(todayIn("Europe/Berlin", instant)).toBe("2025-03-10"); // already Monday
    expect(todayIn("America/New_York", instant)).toBe("2025-03-09");
    expect(todayIn("Pacific/Auckland", instant)).toBe("2025-03-10");
    expect(todayIn("Pacific/Honolulu", new Date("2025-03-10T05:00:00Z"))).toBe("2025-03-09");
  });

  it("so the week shown changes with the office", () => {
    expect(weekStart(todayIn("Europe/London", instant))).toBe("2025-03-03");
    expect(weekStart(todayIn("Asia/Tokyo", instant))).toBe("2025-03-10");
  });

  it("follows summer time", () => {
    // 23:30 UTC on 30 March 2025 is 00:30 on 31 March in London (BST, UTC+1).
    expect(todayIn("Europe/London", new Date("2025-03-30T23:30:00Z"))).toBe("2025-03-31");
    // In winter it is still the same day.
    expect(todayIn("Europe/London", new Date("2025-01-30T23:30:00Z"))).toBe("2025-01-30");
  });
});

describe("formatting", () => {
  it("names days and weeks", () => {
    expect(weekdayName("2025-03-04")).toBe("Tuesday");
    expect(formatLongDate("2025-03-04")).toBe("Tuesday 4 March 2025");
    expect(formatWeekRange("2025-03-03")).toBe("3 – 9 March 2025");
    expect(formatWeekRange("2025-04-28")).toBe("28 April – 4 May 2025");
    expect(formatWeekRange("2024-12-30")).toBe("30 December 2024 – 5 January 2025");
  });

  it("checks real dates", () => {
    expect(isIsoDate("2025-02-28")).toBe(true);
    expect(isIsoDate("2025-02-29")).toBe(false);
    expect(isIsoDate("2025-2-1")).toBe(false);
  });
});
