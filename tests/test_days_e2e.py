"""SPEC §15 day overrides and closures through the gateway against the real services, broker and
database: PUT/DELETE /api/offices/{id}/days/{date} (who may, bad dates and fields named), the
slots' effective values on two gateway replicas, a closed day refusing bookings, cancel_existing
(each holder emailed with the note, audited), and bookings racing a closure and a lowered quota
(never over the effective capacity; counters equal a recount)."""
from __future__ import annotations

import threading
import time

import pytest

from .support.admin import ADMIN, Api, counter_drift, day, expect, wait_until, who
from .support.fixtures import running_stack

OFFICES = [
    {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 50},
    {"id": "beta", "name": "Office Beta", "quota": 50, "parking_quota": 10},
]
CONFIG = {"offices": OFFICES, "default_weekly_quota": 7, "advance_booking_days": 14, "data_retention_days": 30}


@pytest.fixture(scope="module")
def dstack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("days"), CONFIG) as s:
        s.launch("gateway", key="gateway2")
        s.wait_ready()
        yield s


@pytest.fixture(scope="module")
def admin(dstack) -> Api:
    return Api(dstack, ADMIN)


def new_office(admin: Api, quota: int = 5, parking: int = 2) -> str:
    office_id = f"d-{time.monotonic_ns() % 10**9}"
    expect(admin.post("/api/offices", {"id": office_id, "name": f"Office {office_id}", "quota": quota,
                                       "parking_quota": parking}), 201)
    return office_id


def slot(api: Api, office_id: str, date_: str) -> dict:
    return {s["date"]: s for s in expect(api.get(f"/api/offices/{office_id}"), 200).json()["slots"]}[date_]


def book_until(api: Api, office_id: str, date_: str, **kw):
    """Book (retrying while booking's read model has not seen a just-created office)."""
    def attempt():
        r = api.book(office=office_id, date_=date_, **kw)
        return r if r.status_code != 400 or r.json()["code"] != "office_not_found" else None
    return wait_until(attempt, timeout=5)


def test_override_changes_the_slots_on_every_replica_and_delete_restores(dstack, admin):
    office_id = new_office(admin, quota=5, parking=2)
    d = day(3)
    body = expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"quota": 2, "parking_quota": 0,
                                                                    "note": "Half the floor is painted"}), 200).json()
    assert body == {"office": office_id, "date": d, "quota": 2, "parking_quota": 0, "closed": False,
                    "note": "Half the floor is painted", "booked": 0, "booked_parking": 0, "overridden": True,
                    "cancelled": 0}
    user = Api(dstack, who())
    for replica in ("gateway", "gateway2"):
        s = wait_until(lambda r=replica: (x := slot(user.on(r), office_id, d))["quota"] == 2 and x, timeout=2)
        assert s == {"date": d, "booked": 0, "booked_parking": 0, "quota": 2, "parking_quota": 0, "closed": False,
                     "note": "Half the floor is painted", "draw_at": None}
    other = slot(user, office_id, day(4))
    assert (other["quota"], other["parking_quota"], other["closed"], other["note"]) == (5, 2, False, None)
    # a partial PUT keeps the other fields
    expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"parking_quota": 1}), 200)
    assert expect(admin.put(f"/api/offices/{office_id}/days/{d}", {}), 200).json()["note"] == \
        "Half the floor is painted"
    # the override is what the decision uses: car park of 1, office of 2
    expect(book_until(user, office_id, d, parking=True), 201)
    assert expect(Api(dstack, who()).book(office=office_id, date_=d, parking=True), 409).json()["code"] == \
        "parking_full"
    expect(Api(dstack, who()).book(office=office_id, date_=d), 201)
    expect(Api(dstack, who()).book(office=office_id, date_=d), 409, "Office quota exceeded")
    # removing it gives the office's capacity back
    cleared = expect(admin.delete(f"/api/offices/{office_id}/days/{d}"), 200).json()
    assert (cleared["quota"], cleared["parking_quota"], cleared["overridden"], cleared["booked"]) == (5, 2, False, 2)
    for replica in ("gateway", "gateway2"):
        assert wait_until(lambda r=replica: slot(user.on(r), office_id, d)["quota"] == 5, timeout=2)
    expect(Api(dstack, who()).book(office=office_id, date_=d), 201)


def test_lowering_below_what_is_booked_keeps_the_bookings(dstack, admin):
    office_id = new_office(admin, quota=5)
    d = day(2)
    for _ in range(3):
        expect(book_until(Api(dstack, who()), office_id, d), 201)
    body = expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"quota": 1}), 200).json()
    assert (body["quota"], body["booked"]) == (1, 3)
    assert len(expect(admin.get("/api/bookings", office=office_id, date=d), 200).json()) == 3
    expect(Api(dstack, who()).book(office=office_id, date_=d), 409, "Office quota exceeded")


def test_a_closed_day_refuses_bookings_after_rule_8_and_reopens(dstack, admin):
    office_id = new_office(admin)
    d = day(5)
    holder = Api(dstack, who())
    expect(book_until(holder, office_id, d), 201)
    expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"closed": True, "note": "Fire alarm test"}), 200)
    refused = expect(Api(dstack, who()).book(office=office_id, date_=d), 409, "Office closed on that day").json()
    assert refused["code"] == "office_closed" and refused["reference"]
    # rule 8 comes first: the holder of a booking that day is told about the duplicate
    assert expect(holder.book(office=office_id, date_=d), 409).json()["code"] == "duplicate_booking"
    s = wait_until(lambda: (x := slot(holder, office_id, d))["closed"] and x, timeout=2)
    assert s["note"] == "Fire alarm test" and s["booked"] == 1  # closing alone keeps the bookings
    expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"closed": False}), 200)
    expect(Api(dstack, who()).book(office=office_id, date_=d), 201)


def test_close_with_cancel_existing_cancels_emails_each_holder_with_the_note_and_audits(dstack, admin):
    office_id = new_office(admin, quota=10, parking=5)
    d, kept = day(6), day(7)
    holders = [Api(dstack, who("closed")) for _ in range(3)]
    for i, h in enumerate(holders):
        expect(book_until(h, office_id, d, parking=i == 0), 201)
    other_day = expect(holders[0].book(office=office_id, date_=kept), 201).json()
    note = "Closed for the water main repair: work from home"
    body = expect(admin.put(f"/api/offices/{office_id}/days/{d}",
                            {"closed": True, "note": note, "cancel_existing": True}), 200).json()
    assert (body["closed"], body["cancelled"], body["booked"], body["booked_parking"]) == (True, 3, 0, 0)
    listed = expect(admin.get("/api/bookings", office=office_id, date=d, include_cancelled="true"), 200).json()
    assert len(listed) == 3 and {b["status"] for b in listed} == {"cancelled"}
    assert expect(admin.get("/api/bookings", office=office_id, date=kept), 200).json()[0]["id"] == other_day["id"]
    for h in holders:
        mails = dstack.smtp.wait_for(h.email, count=2)  # sign-in code, confirmation, then the closure
        closure = wait_until(lambda e=h.email: next((m for m in dstack.smtp.to(e)
                                                     if m["Subject"].startswith("Office closed")), None))
        assert note in dstack.smtp.text(closure) and mails
    assert counter_drift(dstack.database_url) == []
    with dstack.rpc() as rpc:
        def records():
            return rpc.audit.list_records(limit=200, office=office_id)["records"]
        assert wait_until(lambda: len([r for r in records() if r["action"] == "booking_cancelled"]) == 3)
        day_records = [r for r in records() if r["action"] == "day_changed"]
        assert len(day_records) == 1
        assert day_records[0]["actor"] == ADMIN and day_records[0]["entity_id"] == f"{office_id}/{d}"
        assert day_records[0]["before"] is None
        assert day_records[0]["after"] == {"quota": None, "parking_quota": None, "closed": True, "note": note}


def test_permissions(dstack, admin):
    d = day(3)
    default = Api(dstack, who())
    oa_beta = Api(dstack, who("oa"))
    expect(admin.put(f"/api/users/{oa_beta.email}", {"role": {"name": "Office Admin", "offices": ["beta"]}}), 200)
    for api in (default, oa_beta):
        assert expect(api.put(f"/api/offices/alpha/days/{d}", {"closed": True}), 403).json()["code"] == "forbidden"
        expect(api.delete(f"/api/offices/alpha/days/{d}"), 403)
    expect(default.put(f"/api/offices/beta/days/{d}", {"quota": 3}), 403)
    # an Office Admin of that office may
    assert expect(oa_beta.put(f"/api/offices/beta/days/{d}", {"quota": 3}), 200).json()["quota"] == 3
    expect(oa_beta.delete(f"/api/offices/beta/days/{d}"), 200)
    expect(admin.put(f"/api/offices/nowhere/days/{d}", {"quota": 3}), 404)


@pytest.mark.parametrize("date_, body, code, field", [
    ("2027-02-30", {"quota": 1}, "invalid_date_format", "date"),
    ("tomorrow", {"quota": 1}, "invalid_date_format", "date"),
    (day(-1), {"closed": True}, "invalid_field", "date"),
    (day(400), {"closed": True}, "invalid_field", "date"),
    (day(1), {"quota": -1}, "invalid_field", "quota"),
    (day(1), {"quota": "ten"}, "invalid_field", "quota"),
    (day(1), {"parking_quota": -5}, "invalid_field", "parking_quota"),
    (day(1), {"closed": "yes"}, "invalid_field", "closed"),
    (day(1), {"note": "x" * 501}, "invalid_field", "note"),
    (day(1), {"quota": 1, "cancel_existing": True}, "invalid_field", "cancel_existing"),
])
def test_bad_date_or_field_is_400_naming_it(dstack, admin, date_, body, code, field):
    r = expect(admin.put(f"/api/offices/alpha/days/{date_}", body), 400).json()
    assert r["code"] == code and field in r["message"].lower(), r


def test_bookings_racing_a_closure_and_a_lowered_quota_never_exceed_the_effective_capacity(dstack, admin):
    """Bookings for one day race a lowered quota, then a closure with cancel_existing: every
    booking is either made before the change (and counted; cancelled by the closure) or refused
    with the new capacity's answer; counters equal a recount."""
    office_id = new_office(admin, quota=40, parking=5)
    d = day(8)
    expect(book_until(Api(dstack, who()), office_id, d), 201)
    users = [Api(dstack, who("race")) for _ in range(24)]
    for u in users:
        u.me()  # sign in before the race
    results: list[int] = []
    start = threading.Barrier(len(users) + 1)

    def run(u: Api):
        start.wait()
        results.append(u.book(office=office_id, date_=d).status_code)

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    start.wait()
    lowered = expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"quota": 6}), 200).json()
    for t in threads:
        t.join()
    assert set(results) <= {201, 409}
    final = len(expect(admin.get("/api/bookings", office=office_id, date=d), 200).json())
    assert final == 1 + results.count(201)
    # `lowered["booked"]` is the count when the lower quota committed (under the day's lock): after
    # it, a booking is made only while fewer than 6 are booked
    assert final <= max(6, lowered["booked"])
    if lowered["booked"] >= 6:
        assert final == lowered["booked"]
    assert counter_drift(dstack.database_url) == []

    # now a closure with cancel_existing races a second wave
    wave = [Api(dstack, who("wave")) for _ in range(12)]
    for u in wave:
        u.me()
    expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"quota": 40}), 200)
    statuses: list[int] = []
    start2 = threading.Barrier(len(wave) + 1)

    def run2(u: Api):
        start2.wait()
        statuses.append(u.book(office=office_id, date_=d).status_code)

    threads = [threading.Thread(target=run2, args=(u,)) for u in wave]
    for t in threads:
        t.start()
    start2.wait()
    closed = expect(admin.put(f"/api/offices/{office_id}/days/{d}", {"closed": True, "cancel_existing": True}),
                    200).json()
    for t in threads:
        t.join()
    assert set(statuses) <= {201, 409}
    active = expect(admin.get("/api/bookings", office=office_id, date=d), 200).json()
    assert active == []  # the closure cancelled everything before it; nothing was booked after it
    assert closed["booked"] == 0
    assert counter_drift(dstack.database_url) == []
