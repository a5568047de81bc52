import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, csrfToken, queryString, request, setUnauthorizedHandler } from "./api";

afterEach(() => vi.unstubAllGlobals());

describe("api client", () => {
  it("reads the CSRF cookie", () => {
    expect(csrfToken("a=1; ob_csrf=abc123; b=2")).toBe("abc123");
    expect(csrfToken("a=1")).toBe("");
  });

  it("builds query strings without empty values", () => {
    expect(queryString({ user: "a@b.c", office: "", include_cancelled: false, limit: 5 })).toBe("?user=a%40b.c&limit=5");
    expect(queryString({})).toBe("");
  });

  it("sends the CSRF header on writes and turns errors into ApiError with the reference", async () => {
    const fetchMock = vi.fn(async () =>
      new Response(JSON.stringify({ message: "Office quota exceeded", reference: "r-1", code: "office_full" }), {
        status: 409,
        headers: { "Content-Type": "application/json" },
      }),
    );
    vi.stubGlobal("fetch", fetchMock);
    vi.stubGlobal("document", { cookie: "ob_csrf=tok" });
    const error = await request("POST", "/bookings", { body: { a: 1 } }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, message: "Office quota exceeded", reference: "r-1", code: "office_full" });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/bookings");
    expect((init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("tok");
  });

  it("reads Retry-After and handles a network failure", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ message: "Too many requests", reference: "r" }), { status: 429, headers: { "Retry-After": "120" } })));
    await expect(request("POST", "/auth/code", { body: {} })).rejects.toMatchObject({ status: 429, retryAfter: 120 });
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("offline"); }));
    await expect(request("GET", "/me")).rejects.toMatchObject({ status: 0, code: "network_error" });
  });

  it("calls the unauthorized handler for an ended session (code unauthorized), not for a wrong code", async () => {
    const ended = vi.fn();
    setUnauthorizedHandler(ended);
    const answer = (body: object) => vi.fn(async () => new Response(JSON.stringify(body), { status: 401 }));
    vi.stubGlobal("fetch", answer({ message: "Unauthorized", reference: "r", code: "unauthorized" }));
    await expect(request("GET", "/bookings")).rejects.toMatchObject({ code: "unauthorized" });
    expect(ended).toHaveBeenCalledTimes(1);
    vi.stubGlobal("fetch", answer({ message: "Incorrect code", reference: "r", code: "invalid_code" }));
    await expect(request("GET", "/bookings")).rejects.toMatchObject({ code: "invalid_code" });
    expect(ended).toHaveBeenCalledTimes(1);
    setUnauthorizedHandler(null);
  });
});
