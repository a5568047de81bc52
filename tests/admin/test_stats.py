"""Stats (SPEC §9 GET /api/stats): every office and day, JSON and CSV, an Office Admin's scope."""
from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

from ..support.admin import Api, day, expect, today, wait_until, who
from .common import office_admin

# ------------------------------------------------------------------------------ stats


def test_stats_every_office_and_day_json_and_csv(astack, admin):
    first, last = today() - timedelta(days=30), today() + timedelta(days=13)
    rows = expect(admin.get("/api/stats"), 200).json()["office_dates"]
    offices = list(dict.fromkeys(r["office"] for r in rows))
    assert offices[:3] == ["alpha", "beta", "tiny"] and "old" not in offices  # retired without bookings: left out
    dates = list(dict.fromkeys(r["date"] for r in rows))
    # today − retention … end of the bookable window (a day later when an office east of London is listed)
    assert dates[0] == first.isoformat() and dates[-1] in (last.isoformat(), (last + timedelta(days=1)).isoformat())
    assert dates == [(first + timedelta(days=i)).isoformat() for i in range(len(dates))]
    assert [(r["office"], r["date"]) for r in rows] == [(o, d) for o in offices for d in dates]
    assert all(set(r) == {"office", "date", "bookings", "parking", "checked_in", "released", "no_show_rate"}
               for r in rows)  # checked_in, released, no_show_rate: SPEC §11

    date_ = day(9)
    start = {r["office"]: r for r in expect(admin.get("/api/stats", **{"from": date_, "to": date_}), 200)
             .json()["office_dates"]}
    user = Api(astack, who())
    expect(user.book(office="tiny", date_=date_, parking=True), 201)
    expect(Api(astack, who()).book(office="beta", date_=date_), 201)
    now = {r["office"]: r for r in expect(admin.get("/api/stats", **{"from": date_, "to": date_}), 200)
           .json()["office_dates"]}
    assert (now["tiny"]["bookings"], now["tiny"]["parking"]) == (start["tiny"]["bookings"] + 1,
                                                                 start["tiny"]["parking"] + 1)
    assert now["beta"]["bookings"] == start["beta"]["bookings"] + 1
    assert now["alpha"] == start["alpha"]

    # from/to are clamped to the visible range
    clamped = expect(admin.get("/api/stats", **{"from": "2000-01-01", "to": "2999-12-31"}), 200).json()["office_dates"]
    assert clamped == expect(admin.get("/api/stats"), 200).json()["office_dates"]
    assert expect(admin.get("/api/stats", **{"from": "2000-01-01", "to": "2000-01-31"}), 200).json() == \
        {"office_dates": []}
    expect(admin.get("/api/stats", **{"from": day(3), "to": day(2)}), 400, "Invalid date range: from is after to")
    expect(admin.get("/api/stats", **{"from": "2030-02-30"}), 400, "Invalid date format")
    expect(admin.get("/api/stats", format="xml"), 400)

    r = expect(admin.get("/api/stats", format="csv", **{"from": date_, "to": date_}), 200)
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"] == f'attachment; filename="office-booker-stats-{date_}-to-{date_}.csv"'
    table = list(csv.reader(io.StringIO(r.text)))
    assert table[0] == ["office", "date", "bookings", "parking", "checked_in", "released"]  # SPEC §11 appends two
    assert ["tiny", date_, str(now["tiny"]["bookings"]), str(now["tiny"]["parking"]), "0", "0"] in table[1:]
    assert len(table) == 1 + len(now)


def test_stats_are_limited_to_the_offices_an_office_admin_manages(astack, admin):
    oa = office_admin(astack, admin, ["tiny", "beta"])
    rows = expect(oa.get("/api/stats"), 200).json()["office_dates"]
    assert list(dict.fromkeys(r["office"] for r in rows)) == ["beta", "tiny"]  # the offices' order
    csv_offices = {line.split(",")[0] for line in expect(oa.get("/api/stats", format="csv"), 200).text.splitlines()[1:]}
    assert csv_offices == {"beta", "tiny"}
    expect(Api(astack, who()).get("/api/stats"), 403, "Forbidden")


def test_a_retired_office_with_bookings_in_the_range_stays_in_the_stats(astack, admin):
    office_id = f"hist-{time.monotonic_ns() % 10**8}"
    expect(admin.post("/api/offices", {"id": office_id, "name": "History", "quota": 5}), 201)
    user = Api(astack, who())
    assert wait_until(lambda: user.book(office=office_id, date_=day(2)).status_code == 201, timeout=5)
    expect(admin.delete(f"/api/offices/{office_id}"), 204)
    rows = wait_until(lambda: [r for r in expect(admin.get("/api/stats"), 200).json()["office_dates"]
                               if r["office"] == office_id and r["date"] == day(2)], timeout=5)
    assert rows[0]["bookings"] == 1
