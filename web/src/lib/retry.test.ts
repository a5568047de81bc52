import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError } from "../api";
import { isTransient, retryTransient } from "./retry";

const noWait = () => Promise.resolve();

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

afterEach(() => vi.unstubAllGlobals());

describe("retrying an outage", () => {
  it("tells a dependency outage from read-only mode and from answers", () => {
    expect(isTransient(new ApiError(503, "Service unavailable", "ref"))).toBe(true);
    expect(isTransient(new ApiError(0, "Could not reach Office Booker."))).toBe(true);
    expect(isTransient(new ApiError(503, "Service currently in read-only mode"))).toBe(false);
    expect(isTransient(new ApiError(409, "Office quota exceeded"))).toBe(false);
    expect(isTransient(new Error("bug"))).toBe(false);
  });

  it("retries a booking after a 503 with the same Idempotency-Key", async () => {
    const booking = { id: "b1", user: "ann@my-company.example", office: { id: "alpha", name: "Alpha" } };
    const fetch = vi.fn()
      .mockResolvedValueOnce(answer(503, { message: "Service unavailable", reference: "r1" }))
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockResolvedValueOnce(answer(201, booking));
    vi.stubGlobal("fetch", fetch);
    const request = { user: "ann@my-company.example", office: "alpha", date: "2030-01-02", parking: false };
    const key = "key-1";
    await expect(retryTransient(() => api.createBooking(request, key), [1, 1], noWait)).resolves.toEqual(booking);
    expect(fetch).toHaveBeenCalledTimes(3);
    const keys = fetch.mock.calls.map(([, init]) => new Headers(init.headers).get("Idempotency-Key"));
    expect(keys).toEqual([key, key, key]);
  });

  it("gives up after the last delay, and never retries a rejection", async () => {
    const unavailable = vi.fn().mockRejectedValue(new ApiError(503, "Service unavailable", "r2"));
    await expect(retryTransient(unavailable, [1, 1], noWait)).rejects.toMatchObject({ status: 503, reference: "r2" });
    expect(unavailable).toHaveBeenCalledTimes(3);
    const full = vi.fn().mockRejectedValue(new ApiError(409, "Office quota exceeded"));
    await expect(retryTransient(full, [1, 1], noWait)).rejects.toMatchObject({ status: 409 });
    expect(full).toHaveBeenCalledTimes(1);
  });
});
