// @vitest-environment jsdom
// "My bookings" with ballot requests (SPEC §13) and waitlist places (SPEC §12); the API is a stub.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Booking, User, WaitlistEntry } from "../types";

const stub = vi.hoisted(() => ({
  currentBookings: vi.fn(),
  waitlist: vi.fn(),
  leaveWaitlist: vi.fn(),
  cancelBooking: vi.fn(),
  offices: vi.fn(),
}));

vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), api: stub }));
vi.mock("../session", () => ({
  useUser: (): Partial<User> => ({ email: "ann@my-company.example", quota: 3 }),
}));

const { Bookings } = await import("./Bookings");

afterEach(cleanup);

const request: Booking = {
  id: "r1", user: "ann@my-company.example", office: { id: "draw", name: "Ballot Office" }, date: "2999-03-10", parking: false,
  status: "requested", created_at: "2025-03-01T10:00:00Z", cancellable_until: "2999-03-10T00:00:00+00:00", checked_in_at: null,
};
const place: WaitlistEntry = {
  id: "w1", user: "ann@my-company.example", office: { id: "alpha", name: "Office Alpha" }, date: "2999-03-06", parking: true,
  position: 2, created_at: "2025-03-01T10:00:00Z", status: "waiting", booking_id: null,
};

beforeEach(() => {
  stub.currentBookings.mockResolvedValue([request]);
  stub.waitlist.mockResolvedValue([place]);
  stub.leaveWaitlist.mockResolvedValue(null);
  stub.offices.mockResolvedValue([]);
});

describe("My bookings", () => {
  it("shows requests as requests, and waitlist places with their position", async () => {
    render(
      <MemoryRouter>
        <Bookings />
      </MemoryRouter>,
    );
    const upcoming = await screen.findByRole("region", { name: "Upcoming" });
    await waitFor(() => expect(upcoming.textContent).toContain("Requested"));
    expect(within(upcoming).queryByRole("link", { name: /^Pass/ })).toBeNull();
    expect(within(upcoming).getByRole("button", { name: /^Cancel request/ })).toBeTruthy();
    const waiting = screen.getByRole("region", { name: "Waitlists" });
    expect(waiting.textContent).toContain("On the waitlist — position 2 · Office Alpha · parking");
  });

  it("leaves the waitlist after confirming", async () => {
    render(
      <MemoryRouter>
        <Bookings />
      </MemoryRouter>,
    );
    const waiting = await screen.findByRole("region", { name: "Waitlists" });
    fireEvent.click(await within(waiting).findByRole("button", { name: /^Leave the waitlist/ }));
    stub.waitlist.mockResolvedValue([]);
    fireEvent.click(screen.getByRole("button", { name: "Leave the waitlist", hidden: true }));
    await waitFor(() => expect(stub.leaveWaitlist).toHaveBeenCalledWith("w1"));
    await screen.findByText(/You left the waitlist for Office Alpha/);
    await waitFor(() => expect(waiting.textContent).toContain("You are not waiting for a place on any day."));
  });

  it("offers regular days, \"I'm away\" and the calendar feed (SPEC §14)", async () => {
    render(
      <MemoryRouter>
        <Bookings />
      </MemoryRouter>,
    );
    const upcoming = await screen.findByRole("region", { name: "Upcoming" });
    expect(within(upcoming).getByRole("link", { name: "Set your regular days" }).getAttribute("href")).toBe("/regular-days");
    const away = screen.getByRole("region", { name: "I'm away" });
    expect(within(away).getByRole("button", { name: "Cancel bookings in these dates" })).toBeTruthy();
    const calendar = screen.getByRole("region", { name: "Your calendar" });
    expect(within(calendar).getByRole("button", { name: "Add to my calendar" })).toBeTruthy();
  });
});
