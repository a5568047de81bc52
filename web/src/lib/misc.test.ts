import { describe, expect, it } from "vitest";
import { isAllowedEmail, normalizeEmail, splitEmail } from "./email";
import { sortBy, toggleSort } from "./sort";
import { officesIn, rowsFor, totals } from "./stats";

describe("email", () => {
  const regex = "^(.*)@(my-company\\.example)$";
  it("normalises and checks against email_regex", () => {
    expect(normalizeEmail("  Ann@My-Company.Example ")).toBe("ann@my-company.example");
    expect(isAllowedEmail(" ANN@my-company.example", regex)).toBe(true);
    expect(isAllowedEmail("ann@elsewhere.example", regex)).toBe(false);
    expect(isAllowedEmail("not an email", regex)).toBe(false);
  });

  it("splits the local part from the domain", () => {
    expect(splitEmail("first.last@my-company.example")).toEqual({ local: "first.last", domain: "my-company.example" });
  });
});

describe("sorting", () => {
  it("toggles direction on the same column and starts ascending on another", () => {
    const s = toggleSort({ key: "user", direction: "ascending" }, "user");
    expect(s).toEqual({ key: "user", direction: "descending" });
    expect(toggleSort(s, "parking")).toEqual({ key: "parking", direction: "ascending" });
  });

  it("sorts rows without changing the input", () => {
    const rows = [{ n: 2 }, { n: 1 }, { n: 3 }];
    expect(sortBy(rows, { key: "n", direction: "descending" }, (r) => r.n).map((r) => r.n)).toEqual([3, 2, 1]);
    expect(rows.map((r) => r.n)).toEqual([2, 1, 3]);
  });
});

describe("stats", () => {
  const rows = [
    { office: "beta", date: "2025-03-02", bookings: 1, parking: 0 },
    { office: "alpha", date: "2025-03-02", bookings: 4, parking: 2 },
    { office: "alpha", date: "2025-03-01", bookings: 3, parking: 1 },
  ];
  it("totals, offices and per-office rows", () => {
    expect(totals(rows)).toEqual({ bookings: 8, parking: 3 });
    expect(officesIn(rows)).toEqual(["beta", "alpha"]);
    expect(rowsFor(rows, "alpha").map((r) => r.date)).toEqual(["2025-03-01", "2025-03-02"]);
  });
});
