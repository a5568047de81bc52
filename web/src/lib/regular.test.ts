// Regular days, range cancel and calendar feed helpers (SPEC §14).
import { describe, expect, it } from "vitest";
import type { Booking, OccurrenceResult } from "../types";
import {
  cancelledText, countResults, describeKept, describeWeekdays, sortResults, summariseResults, webcalUrl,
} from "./regular";

function result(date: string, status: OccurrenceResult["status"], message: string | null = null): OccurrenceResult {
  return { date, status, message, code: null, booking_id: status === "booked" ? `b-${date}` : null };
}

const booking: Booking = {
  id: "b1", user: "ann@my-company.example", office: { id: "alpha", name: "Office Alpha" }, date: "2025-03-05",
  parking: false, status: "active", created_at: "2025-03-01T10:00:00Z", cancellable_until: "2025-03-05T00:00:00+00:00",
  checked_in_at: null,
};

describe("describeWeekdays", () => {
  it("names the days, in week order, whatever the order given", () => {
    expect(describeWeekdays([5, 1, 3])).toBe("Mondays, Wednesdays and Fridays");
    expect(describeWeekdays([2])).toBe("Tuesdays");
    expect(describeWeekdays([4, 2])).toBe("Tuesdays and Thursdays");
  });
  it("has words for the whole week, the working week and weekends", () => {
    expect(describeWeekdays([1, 2, 3, 4, 5, 6, 7])).toBe("Every day");
    expect(describeWeekdays([5, 4, 3, 2, 1])).toBe("Every weekday (Monday to Friday)");
    expect(describeWeekdays([7, 6])).toBe("Weekends (Saturdays and Sundays)");
  });
});

describe("results of a pattern", () => {
  const results = [
    result("2025-03-07", "refused", "User quota exceeded"),
    result("2025-03-05", "booked"),
    result("2025-03-06", "booked"),
    result("2025-03-10", "requested"),
  ];
  it("counts and summarises them", () => {
    expect(countResults(results)).toEqual({ booked: 2, requested: 1, refused: 1, pending: 0 });
    expect(summariseResults(results)).toBe("2 days booked, 1 day requested for the draw, 1 day not booked.");
    expect(summariseResults([result("2025-03-05", "pending")])).toBe("1 day being booked.");
  });
  it("says when no date is in the window yet", () => {
    expect(summariseResults([])).toMatch(/No day is in the booking window yet/);
  });
  it("sorts them by date without changing the list given", () => {
    expect(sortResults(results).map((r) => r.date)).toEqual(["2025-03-05", "2025-03-06", "2025-03-07", "2025-03-10"]);
    expect(results[0].date).toBe("2025-03-07");
  });
});

describe("calendar feed", () => {
  it("opens the feed in a calendar app with the webcal scheme", () => {
    expect(webcalUrl("https://booker.my-company.example/api/calendar/abc.ics")).toBe(
      "webcal://booker.my-company.example/api/calendar/abc.ics",
    );
    expect(webcalUrl("http://127.0.0.1:8080/api/calendar/abc.ics")).toBe("webcal://127.0.0.1:8080/api/calendar/abc.ics");
    expect(webcalUrl("HTTPS://x.example/a.ics")).toBe("webcal://x.example/a.ics");
  });
});

describe("range cancel", () => {
  it("describes a kept booking by its day and office, and an unknown one by its id", () => {
    expect(describeKept({ id: "b1", message: "No longer able to cancel booking" }, [booking])).toBe(
      "Wednesday 5 March 2025 at Office Alpha: No longer able to cancel booking",
    );
    expect(describeKept({ id: "b1", message: "x" }, [{ ...booking, status: "requested" }])).toBe(
      "Request for Wednesday 5 March 2025 at Office Alpha: x",
    );
    expect(describeKept({ id: "zz", message: "Forbidden" }, [booking])).toBe("A booking (zz): Forbidden");
  });
  it("counts the cancelled bookings", () => {
    expect(cancelledText(0)).toBe("No booking was cancelled.");
    expect(cancelledText(1)).toBe("Cancelled 1 booking.");
    expect(cancelledText(3)).toBe("Cancelled 3 bookings.");
  });
});
