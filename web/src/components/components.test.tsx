// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api";
import { bookableWindow, buildWeek } from "../lib/calendar";
import type { Booking, Office } from "../types";
import { DayCard } from "./DayCard";
import { ErrorBoundary } from "./ErrorBoundary";
import { ErrorNotice } from "./ErrorNotice";

afterEach(cleanup);

const office: Office = { id: "alpha", name: "Office Alpha", quota: 10, parking_quota: 2, timezone: "Europe/London", retired: false };

function week(bookings: Booking[] = [], slots = [{ date: "2025-03-06", booked: 4, booked_parking: 2 }]) {
  return buildWeek({ monday: "2025-03-03", today: "2025-03-05", window: bookableWindow("2025-03-05", 14), office, slots, bookings });
}

function renderDay(index: number, remaining = 2, bookings: Booking[] = []) {
  const onBook = vi.fn();
  const onCancel = vi.fn();
  render(
    <MemoryRouter>
      <ul>
        <DayCard day={week(bookings)[index]} office={office} remaining={remaining} busy={false} onBook={onBook} onCancel={onCancel} />
      </ul>
    </MemoryRouter>,
  );
  return { onBook, onCancel };
}

describe("DayCard", () => {
  it("shows availability and books with or without parking", () => {
    const { onBook } = renderDay(2);
    expect(screen.getByText("Today")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Book Wednesday 5 March 2025" }));
    expect(onBook).toHaveBeenCalledWith("2025-03-05", false);
    fireEvent.click(screen.getByRole("button", { name: "Book + parking Wednesday 5 March 2025" }));
    expect(onBook).toHaveBeenCalledWith("2025-03-05", true);
  });

  it("disables parking when the car park is full", () => {
    renderDay(3);
    expect(screen.getByText(/of 10 places left/).textContent).toContain("6 of 10 places left");
    expect((screen.getByRole("button", { name: /Book \+ parking/ }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: /^Book Thursday/ }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("disables booking when no bookings are left this week", () => {
    renderDay(3, 0);
    expect((screen.getByRole("button", { name: /^Book Thursday/ }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText("No bookings left this week")).toBeTruthy();
  });

  it("greys a past day", () => {
    renderDay(0);
    expect(screen.queryByRole("button")).toBeNull();
    expect(screen.getByText("Past")).toBeTruthy();
  });

  it("shows a booked day with its pass and cancel", () => {
    const booking: Booking = {
      id: "b1", user: "ann@my-company.example", office: { id: "alpha", name: "Office Alpha" }, date: "2025-03-06",
      parking: true, status: "active", created_at: "2025-03-01T10:00:00Z", cancellable_until: "2999-03-06T00:00:00+00:00",
      checked_in_at: null,
    };
    const { onCancel } = renderDay(3, 1, [booking]);
    expect(screen.getByText("Booked + parking")).toBeTruthy();
    expect(screen.getByRole("link", { name: /View pass/ }).getAttribute("href")).toBe("/booking/b1");
    fireEvent.click(screen.getByRole("button", { name: /Cancel booking on Thursday 6 March 2025/ }));
    expect(onCancel).toHaveBeenCalled();
  });
});

describe("ErrorNotice", () => {
  it("shows the message and the reference", () => {
    render(<ErrorNotice error={new ApiError(409, "User quota exceeded", "ref-123", null, "user_quota_exceeded")} />);
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("User quota exceeded");
    expect(alert.textContent).toContain("ref-123");
  });

  it("adds the wait for rate limiting (by code, not by message)", () => {
    const { unmount } = render(<ErrorNotice error={new ApiError(429, "Slow down", "r", 600, "too_many_requests")} />);
    expect(screen.getByRole("alert").textContent).toContain("Slow down. Try again in 10 minutes");
    unmount();
    render(<ErrorNotice error={new ApiError(409, "Too many requests", "r", 600, "office_full")} />);
    expect(screen.getByRole("alert").textContent).not.toContain("Try again");
  });
});

describe("ErrorBoundary", () => {
  it("replaces a crashing screen with a way out", () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
    function Broken(): never {
      throw new Error("boom");
    }
    render(
      <ErrorBoundary>
        <Broken />
      </ErrorBoundary>,
    );
    expect(screen.getByRole("heading", { name: "Something went wrong" })).toBeTruthy();
    expect(screen.getByText("boom")).toBeTruthy();
    spy.mockRestore();
  });
});
