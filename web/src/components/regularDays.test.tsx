// @vitest-environment jsdom
// "I'm away" (range cancel) and "Your calendar" (the feed link) of My bookings (SPEC §14); the API
// is a stub.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api";
import type { Booking, Office } from "../types";

const stub = vi.hoisted(() => ({
  offices: vi.fn(),
  cancelRange: vi.fn(),
  createCalendarFeed: vi.fn(),
  revokeCalendarFeed: vi.fn(),
}));
vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), api: stub }));

const { RangeCancel } = await import("./RangeCancel");
const { CalendarFeed } = await import("./CalendarFeed");

afterEach(cleanup);

const offices: Office[] = [
  { id: "alpha", name: "Office Alpha", quota: 100, parking_quota: 60, timezone: "Europe/London", retired: false },
  { id: "beta", name: "Office Beta", quota: 200, parking_quota: 150, timezone: "Europe/London", retired: false },
];
const today: Booking = {
  id: "b-today", user: "ann@my-company.example", office: { id: "alpha", name: "Office Alpha" }, date: "2031-03-03",
  parking: false, status: "active", created_at: "2031-03-01T10:00:00Z", cancellable_until: "2031-03-03T00:00:00+00:00",
  checked_in_at: null,
};

/** The open dialog (the closed ones stay in the document, empty). */
function dialog() {
  const open = screen.getAllByRole("dialog", { hidden: true }).filter((d) => d.hasAttribute("open"));
  expect(open).toHaveLength(1);
  return open[0];
}

beforeEach(() => {
  stub.offices.mockReset().mockResolvedValue(offices);
  stub.cancelRange.mockReset();
  stub.createCalendarFeed.mockReset();
  stub.revokeCalendarFeed.mockReset().mockResolvedValue(null);
});

describe("I'm away: range cancel", () => {
  it("confirms, cancels the range at one office, then says what was cancelled and what was kept and why", async () => {
    const onDone = vi.fn();
    stub.cancelRange.mockResolvedValue({
      cancelled: 2, kept: [{ id: "b-today", message: "No longer able to cancel booking" }],
    });
    render(<RangeCancel bookings={[today]} onDone={onDone} />);
    await screen.findByRole("option", { name: "Office Beta" });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2031-03-03" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2031-03-09" } });
    fireEvent.change(screen.getByLabelText("Office"), { target: { value: "alpha" } });
    fireEvent.click(screen.getByRole("button", { name: "Cancel bookings in these dates" }));
    expect(dialog().textContent).toContain(
      "Your bookings and requests at Office Alpha from Monday 3 March 2031 to Sunday 9 March 2031 will be cancelled.",
    );
    expect(stub.cancelRange).not.toHaveBeenCalled();
    fireEvent.click(within(dialog()).getByRole("button", { name: "Cancel bookings", hidden: true }));
    await waitFor(() => expect(stub.cancelRange).toHaveBeenCalledWith({ from: "2031-03-03", to: "2031-03-09", office: "alpha" }));
    const result = await screen.findByRole("status");
    expect(result.textContent).toContain("Cancelled 2 bookings.");
    expect(within(result).getByRole("listitem").textContent).toBe(
      "Monday 3 March 2031 at Office Alpha: No longer able to cancel booking",
    );
    expect(onDone).toHaveBeenCalled();
  });

  it("keeps everything when the user goes back, and covers every office by default", async () => {
    stub.cancelRange.mockResolvedValue({ cancelled: 0, kept: [] });
    render(<RangeCancel bookings={[]} onDone={() => undefined} />);
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2031-03-03" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2031-03-04" } });
    fireEvent.click(screen.getByRole("button", { name: "Cancel bookings in these dates" }));
    expect(dialog().textContent).toContain("at every office");
    fireEvent.click(within(dialog()).getByRole("button", { name: "Keep bookings", hidden: true }));
    expect(stub.cancelRange).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Cancel bookings in these dates" }));
    fireEvent.click(within(dialog()).getByRole("button", { name: "Cancel bookings", hidden: true }));
    await waitFor(() => expect(stub.cancelRange).toHaveBeenCalledWith({ from: "2031-03-03", to: "2031-03-04", office: null }));
    expect((await screen.findByRole("status")).textContent).toBe("No booking was cancelled.");
  });

  it("shows the server's refusal with its reference", async () => {
    stub.cancelRange.mockRejectedValue(new ApiError(400, "Invalid date range: from is after to", "ref-9", null, "invalid_range"));
    render(<RangeCancel bookings={[]} onDone={() => undefined} />);
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2031-03-09" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2031-03-03" } });
    fireEvent.submit(screen.getByRole("button", { name: "Cancel bookings in these dates" }).closest("form")!);
    fireEvent.click(within(dialog()).getByRole("button", { name: "Cancel bookings", hidden: true }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Nothing cancelled: Invalid date range: from is after to (reference ref-9)");
  });
});

describe("Your calendar: the feed link", () => {
  const URL1 = "https://booker.my-company.example/api/calendar/first-token-aaaaaaaaaaaa.ics";
  const URL2 = "https://booker.my-company.example/api/calendar/second-token-bbbbbbbbbbb.ics";

  it("creates the link, shows it once with a copy button and a webcal link", async () => {
    stub.createCalendarFeed.mockResolvedValue({ url: URL1 });
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    render(<CalendarFeed />);
    expect(screen.queryByLabelText("Your calendar link")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Add to my calendar" }));
    const input = (await screen.findByLabelText("Your calendar link")) as HTMLInputElement;
    expect(input.value).toBe(URL1);
    expect(input.readOnly).toBe(true);
    await waitFor(() => expect(document.activeElement).toBe(input));
    expect(screen.getByText(/Copy it now: for your security it is shown only once/)).toBeTruthy();
    expect(screen.getByRole("link", { name: "Open in calendar app" }).getAttribute("href")).toBe(
      "webcal://booker.my-company.example/api/calendar/first-token-aaaaaaaaaaaa.ics",
    );
    fireEvent.click(screen.getByRole("button", { name: "Copy link" }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(URL1));
    await screen.findByText("Link copied.");
  });

  it("rotates the link after confirming, and stops the feed after confirming", async () => {
    stub.createCalendarFeed.mockResolvedValueOnce({ url: URL1 }).mockResolvedValueOnce({ url: URL2 });
    render(<CalendarFeed />);
    fireEvent.click(screen.getByRole("button", { name: "Add to my calendar" }));
    await screen.findByDisplayValue(URL1);

    fireEvent.click(screen.getByRole("button", { name: "Create a new link" }));
    expect(dialog().textContent).toContain("The link you have now stops working at once");
    fireEvent.click(within(dialog()).getByRole("button", { name: "Keep this link", hidden: true }));
    expect(stub.createCalendarFeed).toHaveBeenCalledTimes(1);
    fireEvent.click(screen.getByRole("button", { name: "Create a new link" }));
    fireEvent.click(within(dialog()).getByRole("button", { name: "Create a new link", hidden: true }));
    await screen.findByDisplayValue(URL2);
    expect(screen.getByRole("status").textContent).toBe("A new calendar link is ready: the old one no longer works.");

    fireEvent.click(screen.getByRole("button", { name: "Stop the feed" }));
    fireEvent.click(within(dialog()).getByRole("button", { name: "Stop the feed", hidden: true }));
    await waitFor(() => expect(stub.revokeCalendarFeed).toHaveBeenCalledTimes(1));
    await screen.findByText("The calendar feed is stopped: its link no longer works.");
    expect(screen.queryByLabelText("Your calendar link")).toBeNull();
    expect(screen.getByRole("button", { name: "Add to my calendar" })).toBeTruthy();
  });

  it("can stop a feed made earlier (its link is no longer shown), and shows errors with their reference", async () => {
    stub.createCalendarFeed.mockRejectedValue(new ApiError(503, "Service unavailable", "ref-7", null, "service_unavailable"));
    render(<CalendarFeed />);
    fireEvent.click(screen.getByRole("button", { name: "Add to my calendar" }));
    expect((await screen.findByRole("alert")).textContent).toContain("(reference ref-7)");
    fireEvent.click(screen.getByRole("button", { name: "Stop the feed" }));
    fireEvent.click(within(dialog()).getByRole("button", { name: "Stop the feed", hidden: true }));
    await waitFor(() => expect(stub.revokeCalendarFeed).toHaveBeenCalled());
    await screen.findByText("The calendar feed is stopped: its link no longer works.");
  });
});
