// @vitest-environment jsdom
// The sign-in screen with the company's identity provider (SPEC §16): the "Sign in with …" button
// (back to where the person was going), the email-code form kept or hidden by `login_methods`,
// and a clear message for each reason a sign-in with the provider was refused.
import { cleanup, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ssoErrorMessage } from "../lib/sso";
import type { AppConfig } from "../types";

const session = vi.hoisted(() => ({
  config: null as Partial<AppConfig> | null,
  user: null as { email: string } | null,
}));

vi.mock("../session", () => ({
  useSession: () => ({
    config: session.config, user: session.user, loading: false, expired: false, signedIn: vi.fn(),
  }),
}));

const { SignIn, SignInRoute } = await import("./SignIn");

afterEach(cleanup);

const BASE: Partial<AppConfig> = {
  version: "1", email_regex: "^(.*)@(my-company\\.example)$", advance_booking_days: 14,
  reason_to_book_required: false, show_test_banner: false,
};

function renderAt(path: string) {
  render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/signin" element={<SignInRoute />} />
        <Route path="/" element={session.user ? <p>Home page</p> : <SignIn />} />
        <Route path="*" element={<SignIn />} />
      </Routes>
    </MemoryRouter>,
  );
}

beforeEach(() => {
  session.user = null;
  session.config = { ...BASE, login_methods: ["otac", "oidc"], oidc_provider_name: "Contoso" };
});

describe("Sign in with the identity provider", () => {
  it("offers the provider's button, returning to the page asked for, and keeps the email code form", () => {
    renderAt("/bookings?office=alpha");
    const button = screen.getByRole("link", { name: "Sign in with Contoso" });
    expect(button.getAttribute("href")).toBe("/api/auth/oidc/start?next=%2Fbookings%3Foffice%3Dalpha");
    expect(screen.getByLabelText("Work email address")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Send me a code" })).toBeTruthy();
    expect(screen.getByText("or")).toBeTruthy();
  });

  it("hides the email code form when the provider is the only way in", () => {
    session.config = { ...BASE, login_methods: ["oidc"], oidc_provider_name: "Contoso" };
    renderAt("/");
    expect(screen.getByRole("link", { name: "Sign in with Contoso" }).getAttribute("href"))
      .toBe("/api/auth/oidc/start?next=%2F");
    expect(screen.queryByLabelText("Work email address")).toBeNull();
    expect(screen.queryByRole("button", { name: "Send me a code" })).toBeNull();
    expect(screen.queryByText("or")).toBeNull();
  });

  it("shows only the email code form without the provider", () => {
    session.config = { ...BASE, login_methods: ["otac"], oidc_provider_name: null };
    renderAt("/");
    expect(screen.queryByRole("link", { name: /^Sign in with/ })).toBeNull();
    expect(screen.getByLabelText("Work email address")).toBeTruthy();
    expect(screen.getByText(/We will email you a sign-in code/)).toBeTruthy();
  });

  it("names a generic account when the provider has no name", () => {
    session.config = { ...BASE, login_methods: ["oidc"], oidc_provider_name: null };
    renderAt("/");
    expect(screen.getByRole("link", { name: "Sign in with your company account" })).toBeTruthy();
  });

  it("/signin returns home after sign-in (never back to /signin)", () => {
    renderAt("/signin");
    expect(screen.getByRole("link", { name: "Sign in with Contoso" }).getAttribute("href"))
      .toBe("/api/auth/oidc/start?next=%2F");
    cleanup();
    session.user = { email: "ann@my-company.example" };
    renderAt("/signin?error=state_invalid");
    expect(screen.getByText("Home page")).toBeTruthy();
  });
});

describe("A refused sign-in (/signin?error=<reason>)", () => {
  const cases: [string, RegExp][] = [
    ["access_denied", /Sign-in with Contoso was cancelled/],
    ["provider_error", /Contoso could not complete your sign-in/],
    ["provider_unavailable", /Contoso could not be reached/],
    ["state_invalid", /took too long or was started in another window/],
    ["token_invalid", /could not be verified/],
    ["email_missing", /did not share your email address/],
    ["email_unverified", /not verified at Contoso/],
    ["email_not_allowed", /not permitted to sign in to Office Booker/],
    ["account_disabled", /Your account is disabled/],
    ["service_unavailable", /Office Booker is temporarily unavailable/],
    ["sign_in_failed", /^Sign-in failed\. Please try again\.$/],
    ["something_new", /^Sign-in failed\. Please try again\.$/],
  ];

  it.each(cases)("%s has its own message", (reason, message) => {
    renderAt(`/signin?error=${reason}&ref=abc123`);
    const alert = screen.getByRole("alert");
    expect(alert.querySelector(".error-message")?.textContent).toMatch(message);
    expect(alert.textContent).toContain("(reference abc123)");
    // The way back in is right there.
    expect(screen.getByRole("link", { name: "Sign in with Contoso" })).toBeTruthy();
  });

  it("gives every reason the gateway can send a distinct message", () => {
    const reasons = cases.slice(0, -2).map(([reason]) => reason);
    const messages = new Set(reasons.map((reason) => ssoErrorMessage(reason, "Contoso")));
    expect(messages.size).toBe(reasons.length);
  });

  it("shows no refusal on other pages, or without a reference", () => {
    renderAt("/bookings?error=account_disabled");
    expect(screen.queryByRole("alert")).toBeNull();
    cleanup();
    renderAt("/signin?error=account_disabled");
    expect(screen.getByRole("alert").textContent).not.toContain("reference");
  });
});
