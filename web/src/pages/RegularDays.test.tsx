// @vitest-environment jsdom
// "Regular days" (SPEC §14): set weekdays at an office, see what was booked and what was refused
// and why, stop a pattern after confirming; the API is a stub.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api";
import type { Office, RecurringPattern, User } from "../types";

const stub = vi.hoisted(() => ({
  recurring: vi.fn(),
  createRecurring: vi.fn(),
  deleteRecurring: vi.fn(),
  offices: vi.fn(),
}));
const session = vi.hoisted(() => ({ reasonRequired: false }));

vi.mock("../api", async (original) => ({ ...(await original<typeof import("../api")>()), api: stub }));
vi.mock("../session", () => ({
  useUser: (): Partial<User> => ({ email: "ann@my-company.example", quota: 3, auto_approved: false }),
  useSession: () => ({ config: { advance_booking_days: 14, reason_to_book_required: session.reasonRequired } }),
}));

const { RegularDays } = await import("./RegularDays");

afterEach(cleanup);

const offices: Office[] = [
  { id: "alpha", name: "Office Alpha", quota: 100, parking_quota: 60, timezone: "Europe/London", retired: false },
  { id: "garden", name: "Garden Office", quota: 10, parking_quota: 0, timezone: "Europe/London", retired: false },
];

const pattern: RecurringPattern = {
  id: "p1", user: "ann@my-company.example", office: "alpha", weekdays: [1, 3], parking: true, until: "2999-06-30",
  created_at: "2025-03-01T10:00:00Z",
  last_results: [
    { date: "2031-03-05", status: "refused", message: "User quota exceeded", code: "user_quota_exceeded", booking_id: null },
    { date: "2031-03-03", status: "booked", message: null, code: null, booking_id: "b1" },
  ],
};

function renderPage() {
  render(
    <MemoryRouter>
      <RegularDays />
    </MemoryRouter>,
  );
}

beforeEach(() => {
  session.reasonRequired = false;
  window.localStorage.clear();
  stub.recurring.mockReset().mockResolvedValue([pattern]);
  stub.offices.mockReset().mockResolvedValue(offices);
  stub.createRecurring.mockReset();
  stub.deleteRecurring.mockReset().mockResolvedValue(null);
});

describe("Regular days", () => {
  it("lists each pattern with its booked and refused days, and the reason", async () => {
    renderPage();
    const list = await screen.findByRole("region", { name: "Your regular days" });
    await waitFor(() => expect(list.textContent).toContain("Mondays and Wednesdays at Office Alpha"));
    expect(list.textContent).toContain("With a parking space · until 30 June 2999");
    expect(list.textContent).toContain("1 day booked, 1 day not booked.");
    const days = within(list).getByRole("list", { name: "Days of Mondays and Wednesdays at Office Alpha" });
    const rows = within(days).getAllByRole("listitem");
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toMatch(/^Monday 3 March 2031 Booked/);
    expect(rows[1].textContent).toBe("Wednesday 5 March 2031 Not booked: User quota exceeded");
    expect(within(rows[0]).getByRole("link", { name: /^Pass/ }).getAttribute("href")).toBe("/booking/b1");
  });

  it("sets regular days: the weekdays, office, parking and end date, then shows what was booked", async () => {
    window.localStorage.setItem("ob.office", "alpha");
    stub.recurring.mockResolvedValue([]);
    stub.createRecurring.mockResolvedValue({
      ...pattern, id: "p2", weekdays: [1, 2, 3, 4, 5], parking: false, until: null,
      last_results: [
        { date: "2031-03-03", status: "booked", message: null, code: null, booking_id: "b1" },
        { date: "2031-03-04", status: "refused", message: "Office quota exceeded", code: "office_full", booking_id: null },
      ],
    });
    renderPage();
    await screen.findByText("You have no regular days.");
    for (const day of ["Friday", "Monday", "Wednesday", "Tuesday", "Thursday"]) fireEvent.click(screen.getByLabelText(day));
    fireEvent.change(screen.getByLabelText("Office"), { target: { value: "alpha" } });
    fireEvent.change(screen.getByLabelText("Until (optional)"), { target: { value: "2999-12-31" } });
    fireEvent.click(screen.getByRole("button", { name: "Set regular days" }));
    await waitFor(() =>
      expect(stub.createRecurring).toHaveBeenCalledWith({
        office: "alpha", weekdays: [1, 2, 3, 4, 5], parking: false, until: "2999-12-31",
      }),
    );
    await screen.findByText(
      "Regular days set: Every weekday (Monday to Friday) at Office Alpha. 1 day booked, 1 day not booked.",
    );
    const list = screen.getByRole("region", { name: "Your regular days" });
    await waitFor(() => expect(list.textContent).toContain("Tuesday 4 March 2031 Not booked: Office quota exceeded"));
    expect(list.textContent).toContain("Without parking · no end date");
    expect((screen.getByLabelText("Monday") as HTMLInputElement).checked).toBe(false);
  });

  it("has no parking at an office without a car park, and asks for the reason when the config requires it", async () => {
    session.reasonRequired = true;
    stub.createRecurring.mockResolvedValue({ ...pattern, id: "p3", office: "garden", weekdays: [6], parking: false, last_results: [] });
    renderPage();
    fireEvent.change(await screen.findByLabelText("Office"), { target: { value: "garden" } });
    const parking = screen.getByLabelText("Also book a parking space") as HTMLInputElement;
    expect(parking.disabled).toBe(true);
    expect(screen.getByText("Garden Office has no parking.")).toBeTruthy();
    fireEvent.click(screen.getByLabelText("Saturday"));
    fireEvent.change(screen.getByLabelText("Why do you need to go to the office?"), { target: { value: " Team day " } });
    fireEvent.submit(screen.getByRole("button", { name: "Set regular days" }).closest("form")!);
    await waitFor(() =>
      expect(stub.createRecurring).toHaveBeenCalledWith({
        office: "garden", weekdays: [6], parking: false, until: null, reason: "Team day",
      }),
    );
    await screen.findByText(/^Regular days set: Saturdays at Garden Office\. No day is in the booking window yet/);
  });

  it("shows a refusal of the server with its reference", async () => {
    stub.createRecurring.mockRejectedValue(
      new ApiError(400, "Invalid weekdays: a non-empty list of ISO weekdays, 1 (Monday) to 7 (Sunday)", "ref-123", null,
        "invalid_field"),
    );
    renderPage();
    await screen.findByLabelText("Office");
    fireEvent.click(screen.getByRole("button", { name: "Set regular days" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Invalid weekdays");
    expect(alert.textContent).toContain("(reference ref-123)");
  });

  it("stops a pattern after confirming; the bookings it made stay", async () => {
    renderPage();
    const list = await screen.findByRole("region", { name: "Your regular days" });
    fireEvent.click(await within(list).findByRole("button", { name: /^Stop these regular days/ }));
    const dialog = screen.getByRole("dialog", { hidden: true });
    expect(dialog.textContent).toContain("The bookings already made stay");
    fireEvent.click(within(dialog).getByRole("button", { name: "Keep regular days", hidden: true }));
    expect(stub.deleteRecurring).not.toHaveBeenCalled();

    fireEvent.click(within(list).getByRole("button", { name: /^Stop these regular days/ }));
    stub.recurring.mockResolvedValue([]);
    fireEvent.click(within(screen.getByRole("dialog", { hidden: true })).getByRole("button", {
      name: "Stop regular days", hidden: true,
    }));
    await waitFor(() => expect(stub.deleteRecurring).toHaveBeenCalledWith("p1"));
    await screen.findByText("Stopped: Mondays and Wednesdays at Office Alpha. The bookings already made stay.");
    await within(list).findByText("You have no regular days.");
  });
});
