import { describe, expect, it } from "vitest";
import { REFRESH_MARGIN_MS, refreshDelay } from "./checkinApi";

describe("the kiosk's door code refresh", () => {
  it("fetches the next code 20 s before the current one expires", () => {
    const now = Date.parse("2027-03-10T09:00:00Z");
    expect(refreshDelay("2027-03-10T09:01:30Z", now)).toBe(90_000 - REFRESH_MARGIN_MS);
  });
  it("never waits less than 5 s, also for an expired or unreadable time", () => {
    const now = Date.parse("2027-03-10T09:00:00Z");
    expect(refreshDelay("2027-03-10T09:00:10Z", now)).toBe(5_000);
    expect(refreshDelay("nonsense", now)).toBe(5_000);
  });
});
