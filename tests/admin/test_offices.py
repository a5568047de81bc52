"""Offices through the gateway (SPEC §6, §9): create, edit (quota, time zone), retire and unretire."""
from __future__ import annotations

import time

import pytest

from ..support.admin import ADMIN, Api, day, expect, wait_until, who
from .common import audit_records, office_admin, within

# ------------------------------------------------------------------------------ offices


def test_create_office_lists_it_last_and_takes_bookings(astack, admin):
    office_id = f"new-{time.monotonic_ns() % 10**8}"
    created = expect(admin.post("/api/offices", {"id": office_id, "name": "  New Office  ", "quota": 2}), 201).json()
    assert created == {"id": office_id, "name": "New Office", "quota": 2, "parking_quota": 0,
                       "timezone": "Europe/London", "retired": False, "check_in_deadline": None,
                       "allocation": "first_come", "ballot_draw_days_before": 7, "ballot_draw_time": "12:00"}
    # every replica's office read model follows the offices' events within a second
    for replica in (admin, admin.on("gateway2")):
        within(1.0, lambda replica=replica: expect(replica.get("/api/offices"), 200).json()[-1]["id"] == office_id)
        listed = expect(replica.get("/api/offices"), 200).json()
        assert listed[-1] == created and [o["id"] for o in listed][:3] == ["alpha", "beta", "tiny"]
    user = Api(astack, who())
    assert wait_until(lambda: user.book(office=office_id, date_=day(1)).status_code == 201, timeout=5)
    expect(admin.post("/api/offices", {"id": office_id, "name": "Again", "quota": 1}), 409,
           f"Office already exists: {office_id}")

    def created_record():
        return [r for r in audit_records(astack, office=office_id) if r["action"] == "office_created"]

    (record,) = wait_until(created_record)
    assert record["actor"] == ADMIN and record["before"] is None and record["after"] == created


@pytest.mark.parametrize("body, message", [
    ({"id": "x1", "name": "X", "quota": 1, "timezone": "Mars/Olympus_Mons"},
     "Invalid timezone: unknown time zone 'Mars/Olympus_Mons' (use an IANA name such as Europe/London)"),
    ({"id": "Bad Id", "name": "X", "quota": 1}, "Invalid id: String should match pattern '^[a-z0-9-]+$'"),
    ({"id": "x2", "name": "   ", "quota": 1}, "Invalid name: must not be empty"),
    ({"id": "x3", "quota": 1}, "Missing name"),
    ({"id": "x4", "name": "X", "quota": 100001}, "Invalid quota: Input should be less than or equal to 100000"),
    ({"id": "x5", "name": "X", "quota": 1, "parking_quota": -1},
     "Invalid parking_quota: Input should be greater than or equal to 0"),
    ({"id": "x6", "name": "X", "quota": "10"}, "Invalid quota: Input should be a valid integer"),
    ([], "Bad request body"),
])
def test_create_office_bad_fields_name_the_field(astack, admin, body, message):
    expect(admin.post("/api/offices", body), 400, message)


def test_only_system_admins_manage_offices(astack, admin):
    oa = office_admin(astack, admin, ["alpha"])
    default = Api(astack, who())
    for caller in (oa, default):
        expect(caller.post("/api/offices", {"id": "nope", "name": "Nope", "quota": 1}), 403, "Forbidden")
        expect(caller.put("/api/offices/alpha", {"quota": 1}), 403, "Forbidden")
        expect(caller.delete("/api/offices/alpha"), 403, "Forbidden")
    assert expect(admin.get("/api/offices/alpha"), 200).json()["quota"] == 100


def test_lowering_a_quota_keeps_bookings_and_stops_new_ones(astack, admin):
    office_id = f"lower-{time.monotonic_ns() % 10**8}"
    expect(admin.post("/api/offices", {"id": office_id, "name": "Lower", "quota": 3, "parking_quota": 2}), 201)
    users = [Api(astack, who()) for _ in range(3)]
    booked = [wait_until(lambda u=u: u.book(office=office_id, date_=day(4)).status_code == 201 or None, timeout=5)
              for u in users]
    assert all(booked)
    updated = expect(admin.put(f"/api/offices/{office_id}", {"quota": 1, "parking_quota": 0}), 200).json()
    assert updated["quota"] == 1 and updated["parking_quota"] == 0 and updated["name"] == "Lower"
    listed = expect(admin.get("/api/bookings", office=office_id, date=day(4)), 200).json()
    assert len(listed) == 3 and all(b["status"] == "active" for b in listed)
    late = Api(astack, who())
    assert wait_until(lambda: late.book(office=office_id, date_=day(4)).json().get("code") == "office_full",
                      timeout=5)
    expect(late.book(office=office_id, date_=day(5)), 201)
    def booked() -> int:
        return {s["date"]: s for s in expect(admin.get(f"/api/offices/{office_id}"), 200).json()["slots"]}[day(4)][
            "booked"]

    assert wait_until(lambda: booked() == 3, timeout=5)


def test_a_time_zone_change_keeps_bookings_on_their_dates(astack, admin):
    office_id = f"tz-{time.monotonic_ns() % 10**8}"
    expect(admin.post("/api/offices", {"id": office_id, "name": "Zoned", "quota": 5, "timezone": "Europe/London"}), 201)
    user = Api(astack, who())
    b = wait_until(lambda: (r := user.book(office=office_id, date_=day(3))).status_code == 201 and r.json(), timeout=5)
    expect(admin.put(f"/api/offices/{office_id}", {"timezone": "Asia/Tokyo"}), 200)

    def moved():
        (listed,) = expect(user.get("/api/bookings"), 200).json()
        return listed if listed["cancellable_until"].endswith("+09:00") else None

    listed = wait_until(moved, timeout=5)
    assert listed["id"] == b["id"] and listed["date"] == b["date"] == day(3)
    assert listed["cancellable_until"] == f"{day(3)}T00:00:00+09:00"
    expect(admin.put(f"/api/offices/{office_id}", {"timezone": "Nowhere/City"}), 400,
           "Invalid timezone: unknown time zone 'Nowhere/City' (use an IANA name such as Europe/London)")
    expect(admin.put(f"/api/offices/{office_id}", {"quota": None}), 400, "Invalid quota: must not be null")
    expect(admin.put("/api/offices/nowhere", {"quota": 1}), 404, "Not Found")


def test_retire_and_unretire(astack, admin):
    office_id = f"ret-{time.monotonic_ns() % 10**8}"
    expect(admin.post("/api/offices", {"id": office_id, "name": "Retiring", "quota": 5}), 201)
    user = Api(astack, who())
    b = wait_until(lambda: (r := user.book(office=office_id, date_=day(2))).status_code == 201 and r.json(), timeout=5)
    expect(admin.delete(f"/api/offices/{office_id}"), 204)
    expect(admin.delete(f"/api/offices/{office_id}"), 204)  # already retired: still retired
    assert wait_until(lambda: office_id not in [o["id"] for o in expect(admin.get("/api/offices"), 200).json()],
                      timeout=5)
    everything = expect(admin.get("/api/offices", include_retired="true"), 200).json()
    ids = [o["id"] for o in everything]
    assert ids.index("alpha") < ids.index("old") < ids.index(office_id)  # creation order, retired included
    assert next(o for o in everything if o["id"] == office_id)["retired"] is True
    assert office_id not in [o["id"] for o in expect(user.get("/api/offices", include_retired="true"), 200).json()]
    assert wait_until(lambda: expect(user.get(f"/api/offices/{office_id}"), 200).json()["retired"] is True, timeout=5)
    assert wait_until(lambda: user.book(office=office_id, date_=day(3)).json().get("code") == "office_not_found",
                      timeout=5)
    assert [x["id"] for x in expect(user.get("/api/bookings"), 200).json()] == [b["id"]]  # existing ones stay
    expect(admin.put(f"/api/offices/{office_id}", {"retired": False}), 200)
    assert wait_until(lambda: user.book(office=office_id, date_=day(3)).status_code == 201, timeout=5)
    expect(admin.delete("/api/offices/nowhere"), 404, "Not Found")
