import { describe, expect, it } from "vitest";
import { ApiError } from "../api";
import type { Booking, Office, WaitlistEntry, WaitlistEvent } from "../types";
import { bookableWindow, buildWeek, remainingInWeek, waitlistOffer, type DayCell } from "./calendar";
import { formatMoment, timeIn } from "./dates";
import { applyWaitlistEvent, ballotDraw, positionText, refusalForWaitlist, waitlistEventText } from "./waitlist";

const office: Office = {
  id: "alpha", name: "Office Alpha", quota: 2, parking_quota: 1, timezone: "Europe/London", retired: false,
  check_in_deadline: null,
};

function entry(id: string, position: number, extra: Partial<WaitlistEntry> = {}): WaitlistEntry {
  return {
    id, user: "ann@my-company.example", office: { id: "alpha", name: "Office Alpha" }, date: "2025-03-06", parking: false,
    position, created_at: "2025-03-01T10:00:00Z", status: "waiting", booking_id: null, ...extra,
  };
}

function event(extra: Partial<WaitlistEvent>): WaitlistEvent {
  return { id: "w1", office: "alpha", date: "2025-03-06", status: "waiting", position: 1, booking_id: null, ...extra };
}

function booking(date: string, extra: Partial<Booking> = {}): Booking {
  return {
    id: `b-${date}`, user: "ann@my-company.example", office: { id: "alpha", name: "Office Alpha" }, date, parking: false,
    status: "active", created_at: "2025-03-01T10:00:00Z", cancellable_until: `${date}T00:00:00+00:00`, checked_in_at: null,
    ...extra,
  };
}

const NOW = new Date("2025-03-05T09:00:00Z");

function days(slots: object[], bookings: Booking[] = [], waitlist: WaitlistEntry[] = [], now = NOW): DayCell[] {
  return buildWeek({
    monday: "2025-03-03", today: "2025-03-05", window: bookableWindow("2025-03-05", 14), office,
    slots: slots as never, bookings, waitlist, now,
  });
}

describe("refusals that offer the waitlist", () => {
  it("are office full, closed and car park full, by code", () => {
    expect(refusalForWaitlist(new ApiError(409, "Office quota exceeded", "r", null, "office_full"))).toBe("places");
    expect(refusalForWaitlist(new ApiError(409, "Closed", "r", null, "office_closed"))).toBe("places");
    expect(refusalForWaitlist(new ApiError(409, "Parking", "r", null, "parking_full"))).toBe("parking");
    expect(refusalForWaitlist(new ApiError(409, "Office quota exceeded", "r", null, "user_quota_exceeded"))).toBeNull();
    expect(refusalForWaitlist(new Error("office_full"))).toBeNull();
  });
});

describe("live waitlist events", () => {
  it("move a known entry to its new position", () => {
    const { entries, known } = applyWaitlistEvent([entry("w1", 2), entry("w2", 1)], event({ position: 1 }));
    expect(known).toBe(true);
    expect(entries.map((e) => [e.id, e.position])).toEqual([["w1", 1], ["w2", 1]]);
  });

  it("take the entry off when it was promoted, expired or removed", () => {
    for (const status of ["promoted", "expired", "cancelled", "left", "won"] as const) {
      const { entries, known } = applyWaitlistEvent([entry("w1", 1), entry("w2", 2)], event({ status, position: null }));
      expect(known).toBe(true);
      expect(entries.map((e) => e.id)).toEqual(["w2"]);
    }
  });

  it("ask for a fresh read when the entry is unknown (joined elsewhere, a ballot's loser)", () => {
    expect(applyWaitlistEvent([], event({ id: "w9" })).known).toBe(false);
    expect(applyWaitlistEvent([], event({ id: null, status: "won", booking_id: "b1" })).known).toBe(false);
  });

  it("say what happened in words", () => {
    expect(waitlistEventText(event({ status: "promoted", booking_id: "b1" }), "Office Alpha")).toBe(
      "A place freed up: you're booked at Office Alpha on Thursday 6 March 2025.",
    );
    expect(waitlistEventText(event({ status: "won", booking_id: "b1" }), "Office Alpha")).toContain("you're booked");
    expect(waitlistEventText(event({ status: "waiting", position: 3, booking_id: "b1" }), "Office Alpha")).toContain(
      "You are on the waitlist, position 3",
    );
    expect(waitlistEventText(event({ status: "waiting", position: 3 }), "Office Alpha")).toBeNull();
    expect(waitlistEventText(event({ status: "expired" }), "Office Alpha")).toContain("expired");
    expect(waitlistEventText(event({ status: "left" }), "Office Alpha")).toBeNull();
    expect(positionText({ position: 4 })).toBe("On the waitlist — position 4");
  });
});

describe("the day's queue and ballot in the week", () => {
  it("offers the waitlist on a full, closed or car-park-full day, not on a free one", () => {
    const week = days([
      { date: "2025-03-06", booked: 2, booked_parking: 0 }, // full
      { date: "2025-03-07", booked: 0, booked_parking: 0, closed: true }, // closed
      { date: "2025-03-08", booked: 1, booked_parking: 1 }, // car park full
    ]);
    const offer = (i: number, refused: "places" | "parking" | null = null) =>
      waitlistOffer({ day: week[i], office, remaining: 2, refused, now: NOW });
    expect(offer(3)).toEqual({ places: true, parking: true });
    expect(offer(4)).toEqual({ places: true, parking: true });
    expect(offer(5)).toEqual({ places: false, parking: true });
    expect(offer(6)).toBeNull(); // plenty of room
    expect(offer(6, "places")).toEqual({ places: true, parking: true }); // refused after all
    expect(offer(0)).toBeNull(); // past
    expect(waitlistOffer({ day: week[3], office, remaining: 0, now: NOW })).toBeNull(); // weekly quota used
  });

  it("does not offer today's queue once it has closed (no check-in deadline: the day's start)", () => {
    const week = days([{ date: "2025-03-05", booked: 2, booked_parking: 0 }]);
    expect(waitlistOffer({ day: week[2], office, remaining: 2, now: NOW })).toBeNull();
    const withDeadline = { ...office, check_in_deadline: "10:00" };
    expect(waitlistOffer({ day: week[2], office: withDeadline, remaining: 2, now: NOW })).toEqual({ places: true, parking: true });
    expect(waitlistOffer({ day: week[2], office: withDeadline, remaining: 2, now: new Date("2025-03-05T10:00:00Z") })).toBeNull();
  });

  it("marks the user's waiting place and request, and days whose draw is ahead", () => {
    const week = days(
      [
        { date: "2025-03-06", booked: 2, booked_parking: 0 },
        { date: "2025-03-10", booked: 9, booked_parking: 0, draw_at: "2025-03-07T12:00:00+00:00" },
        { date: "2025-03-05", booked: 0, booked_parking: 0, draw_at: "2025-03-02T12:00:00+00:00" },
      ],
      [booking("2025-03-07", { status: "requested" })],
      [entry("w1", 2)],
    );
    expect(week[3].waitlist?.id).toBe("w1");
    expect(waitlistOffer({ day: week[3], office, remaining: 2, now: NOW })).toBeNull(); // already waiting
    expect(week[4].request?.status).toBe("requested");
    expect(week[4].booking).toBeNull();
    expect(week[2].drawPending).toBe(false); // drawn already
    const next = days([{ date: "2025-03-10", booked: 9, booked_parking: 0, draw_at: "2025-03-07T12:00:00+00:00" }]);
    expect(buildWeek({
      monday: "2025-03-10", today: "2025-03-05", window: bookableWindow("2025-03-05", 14), office,
      slots: [{ date: "2025-03-10", booked: 9, booked_parking: 0, draw_at: "2025-03-07T12:00:00+00:00" }], bookings: [], now: NOW,
    })[0].drawPending).toBe(true);
    expect(next).toHaveLength(7);
  });

  it("counts requests toward the weekly quota (SPEC §13)", () => {
    const bookings = [booking("2025-03-03"), booking("2025-03-04", { status: "requested" }), booking("2025-03-05", { status: "waitlisted" })];
    expect(remainingInWeek(bookings, "2025-03-03", 3)).toBe(1);
  });

  it("computes a ballot office's draw in the office's calendar", () => {
    const ballot = { ...office, allocation: "ballot" as const, ballot_draw_days_before: 3, ballot_draw_time: "12:00" };
    expect(ballotDraw(ballot, "2025-03-14", NOW)).toEqual({
      date: "2025-03-11", time: "12:00", text: "Tuesday 11 March at 12:00", pending: true,
    });
    expect(ballotDraw(ballot, "2025-03-08", new Date("2025-03-05T12:00:00Z"))?.pending).toBe(false); // drawn on the 5th at 12:00 …
    expect(ballotDraw(ballot, "2025-03-08", new Date("2025-03-05T11:59:00Z"))?.pending).toBe(true); // … not yet
    expect(ballotDraw(office, "2025-03-14", NOW)).toBeNull();
  });
});

describe("moments in an office's zone", () => {
  it("formats a draw moment as the office's clock shows it", () => {
    expect(formatMoment("2025-03-07T12:00:00+00:00", "Europe/London")).toBe("Friday 7 March at 12:00");
    expect(formatMoment("2025-03-07T12:00:00+00:00", "Asia/Tokyo")).toBe("Friday 7 March at 21:00");
    expect(formatMoment("2025-07-07T12:00:00+01:00", "Europe/London")).toBe("Monday 7 July at 12:00");
    expect(timeIn("Europe/Paris", new Date("2025-03-05T09:05:00Z"))).toBe("10:05");
    expect(timeIn("Europe/London", new Date("2025-03-05T00:00:00Z"))).toBe("00:00");
  });
});
