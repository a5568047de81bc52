// @vitest-environment jsdom
// The waitlist (SPEC §12) and ballot (SPEC §13) on the booking screen's day cards, and the admin
// bookings page's requests and queue.
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bookableWindow, buildWeek } from "../lib/calendar";
import { DayRequests, DayWaitlist } from "../pages/admin/DayQueues";
import type { Booking, Office, WaitlistEntry } from "../types";
import { DayCard } from "./DayCard";
import { LeaveWaitlistDialog } from "./Dialog";

afterEach(cleanup);

const office: Office = { id: "alpha", name: "Office Alpha", quota: 2, parking_quota: 1, timezone: "Europe/London", retired: false };
const NOW = new Date("2025-03-05T09:00:00Z");

function booking(date: string, extra: Partial<Booking> = {}): Booking {
  return {
    id: `b-${date}`, user: "ann@my-company.example", office: { id: "alpha", name: "Office Alpha" }, date, parking: false,
    status: "active", created_at: "2025-03-01T10:00:00Z", cancellable_until: "2999-01-01T00:00:00+00:00", checked_in_at: null,
    ...extra,
  };
}

function entry(id: string, position: number, extra: Partial<WaitlistEntry> = {}): WaitlistEntry {
  return {
    id, user: `${id}@my-company.example`, office: { id: "alpha", name: "Office Alpha" }, date: "2025-03-06", parking: false,
    position, created_at: "2025-03-01T10:00:00Z", status: "waiting", booking_id: null, ...extra,
  };
}

const SLOTS = [
  { date: "2025-03-06", booked: 2, booked_parking: 0 }, // Thursday: full
  { date: "2025-03-07", booked: 1, booked_parking: 1 }, // Friday: car park full
  { date: "2025-03-10", booked: 5, booked_parking: 0, draw_at: "2025-03-07T12:00:00+00:00" }, // Monday: ballot, draw ahead
];

function renderDay(date: string, options: { bookings?: Booking[]; waitlist?: WaitlistEntry[]; refused?: "places" | "parking" } = {}) {
  const monday = date < "2025-03-10" ? "2025-03-03" : "2025-03-10";
  const week = buildWeek({
    monday, today: "2025-03-05", window: bookableWindow("2025-03-05", 14), office, slots: SLOTS,
    bookings: options.bookings ?? [], waitlist: options.waitlist ?? [], now: NOW,
  });
  const day = week.find((d) => d.date === date)!;
  const handlers = { onBook: vi.fn(), onCancel: vi.fn(), onJoinWaitlist: vi.fn(), onLeaveWaitlist: vi.fn() };
  render(
    <MemoryRouter>
      <ul>
        <DayCard day={day} office={office} remaining={2} busy={false} refused={options.refused ?? null} {...handlers} />
      </ul>
    </MemoryRouter>,
  );
  return handlers;
}

describe("DayCard: the waitlist of a full day", () => {
  it("offers to join instead of booking", () => {
    const { onJoinWaitlist, onBook } = renderDay("2025-03-06");
    expect(screen.queryByRole("button", { name: /^Book/ })).toBeNull();
    expect(screen.getByText("Office full")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Join the waitlist for Thursday 6 March 2025" }));
    expect(onJoinWaitlist).toHaveBeenCalledWith("2025-03-06", false);
    fireEvent.click(screen.getByRole("button", { name: "Join + parking waitlist for Thursday 6 March 2025" }));
    expect(onJoinWaitlist).toHaveBeenCalledWith("2025-03-06", true);
    expect(onBook).not.toHaveBeenCalled();
  });

  it("offers the parking queue when only the car park is full", () => {
    const { onJoinWaitlist, onBook } = renderDay("2025-03-07");
    fireEvent.click(screen.getByRole("button", { name: "Book Friday 7 March 2025" }));
    expect(onBook).toHaveBeenCalledWith("2025-03-07", false);
    expect(screen.queryByRole("button", { name: /^Book \+ parking/ })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: /^Join the waitlist for parking/ }));
    expect(onJoinWaitlist).toHaveBeenCalledWith("2025-03-07", true);
  });

  it("offers the queue after a refusal, whatever the counts on screen", () => {
    const { onJoinWaitlist } = renderDay("2025-03-08", { refused: "places" }); // Saturday, free on screen
    fireEvent.click(screen.getByRole("button", { name: /^Join the waitlist for Saturday/ }));
    expect(onJoinWaitlist).toHaveBeenCalledWith("2025-03-08", false);
  });

  it("shows the position and leaves", () => {
    const waiting = entry("w1", 2);
    const { onLeaveWaitlist } = renderDay("2025-03-06", { waitlist: [waiting] });
    expect(screen.getByTestId("waitlist-status").textContent).toBe("On the waitlist — position 2");
    expect(screen.queryByRole("button", { name: /^Join/ })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Leave the waitlist for Thursday 6 March 2025" }));
    expect(onLeaveWaitlist).toHaveBeenCalledWith(waiting);
  });

  it("shows a promoted place as a booking", () => {
    renderDay("2025-03-06", { bookings: [booking("2025-03-06", { created_by: "waitlist" })] });
    expect(screen.getByText("Booked")).toBeTruthy();
    expect(screen.getByRole("link", { name: /View pass/ })).toBeTruthy();
    expect(screen.queryByTestId("waitlist-status")).toBeNull();
  });
});

describe("DayCard: a ballot day before its draw", () => {
  it("asks for a request, with the draw's moment in the office's time", () => {
    const { onBook } = renderDay("2025-03-10");
    expect(screen.getByTestId("ballot-info").textContent).toContain("Request a place — drawn on Friday 7 March at 12:00");
    expect(screen.queryByRole("button", { name: /^Book/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /^Join/ })).toBeNull(); // capacity is not checked before the draw
    fireEvent.click(screen.getByRole("button", { name: "Request a place on Monday 10 March 2025" }));
    expect(onBook).toHaveBeenCalledWith("2025-03-10", false);
    fireEvent.click(screen.getByRole("button", { name: "Request + parking on Monday 10 March 2025" }));
    expect(onBook).toHaveBeenCalledWith("2025-03-10", true);
  });

  it("shows a request with its cancel", () => {
    const { onCancel } = renderDay("2025-03-10", { bookings: [booking("2025-03-10", { status: "requested" })] });
    expect(screen.getByText("Requested", { selector: ".badge" })).toBeTruthy();
    expect(screen.getByTestId("ballot-info").textContent).toContain("Requested — drawn on Friday 7 March at 12:00");
    expect(screen.queryByRole("link", { name: /View pass/ })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Cancel request for Monday 10 March 2025" }));
    expect(onCancel).toHaveBeenCalled();
  });

  it("after the draw: the winner's booking, or the loser's place in the queue", () => {
    renderDay("2025-03-10", { bookings: [booking("2025-03-10")] });
    expect(screen.getByText("Booked")).toBeTruthy();
    expect(screen.queryByTestId("ballot-info")).toBeNull();
    cleanup();
    renderDay("2025-03-10", { waitlist: [entry("w3", 3, { date: "2025-03-10" })] });
    expect(screen.getByTestId("waitlist-status").textContent).toBe("On the waitlist — position 3");
    expect(screen.getByRole("button", { name: /^Leave the waitlist/ })).toBeTruthy();
  });
});

describe("Admin: a day's requests and waitlist", () => {
  it("lists requests with the draw and cancels one", () => {
    const onCancel = vi.fn();
    const requests = [booking("2025-03-10", { id: "r2", user: "bob@my-company.example", status: "requested", created_at: "2025-03-02T10:00:00Z" }),
      booking("2025-03-10", { id: "r1", user: "ann@my-company.example", status: "requested", parking: true })];
    render(
      <MemoryRouter>
        <DayRequests office={office} date="2025-03-10" requests={requests} drawAt="Friday 7 March at 12:00" onCancel={onCancel} />
      </MemoryRouter>,
    );
    const region = screen.getByRole("region", { name: "Requests" });
    expect(region.textContent).toContain("2 requests (1 with parking) · drawn on Friday 7 March at 12:00");
    const rows = within(region).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent?.split("Yes")[0].split("No")[0])).toEqual(["ann@my-company.example", "bob@my-company.example"]);
    fireEvent.click(screen.getByRole("button", { name: "Cancel request of bob@my-company.example" }));
    expect(onCancel).toHaveBeenCalledWith(requests[0]);
  });

  it("lists the queue in order and removes with confirmation", () => {
    const onRemove = vi.fn();
    const entries = [entry("second", 2, { parking: true }), entry("first", 1)];
    render(
      <MemoryRouter>
        <DayWaitlist office={office} date="2025-03-06" entries={entries} onRemove={onRemove} />
      </MemoryRouter>,
    );
    const rows = within(screen.getByRole("region", { name: "Waitlist" })).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell").slice(0, 3).map((c) => c.textContent))).toEqual([
      ["1", "first@my-company.example", "No"],
      ["2", "second@my-company.example", "Yes"],
    ]);
    fireEvent.click(screen.getByRole("button", { name: "Remove first@my-company.example from the waitlist" }));
    expect(onRemove).toHaveBeenCalledWith(entries[1]);
  });

  it("says when nobody waits", () => {
    render(
      <MemoryRouter>
        <DayWaitlist office={office} date="2025-03-06" entries={[]} onRemove={vi.fn()} />
      </MemoryRouter>,
    );
    expect(screen.getByText("Nobody is waiting for a place on this day.")).toBeTruthy();
  });

  it("confirms removing someone from the queue", () => {
    const onLeave = vi.fn();
    const onStay = vi.fn();
    const waiting = entry("first", 1);
    render(
      <LeaveWaitlistDialog admin pending={waiting} onStay={onStay} onLeave={onLeave} describe={(w) => <>{w.user} loses their place.</>} />,
    );
    expect(screen.getByText("first@my-company.example loses their place.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Keep on waitlist", hidden: true }));
    expect(onStay).toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Remove from waitlist", hidden: true }));
    expect(onLeave).toHaveBeenCalledWith(waiting);
  });
});
