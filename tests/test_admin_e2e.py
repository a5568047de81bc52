"""Administration through the gateway against the real services (issue 4; SPEC §1, §3, §4, §6,
§8, §9): users (list, search, filters, pagination, edit, prepare, erase), offices (create, edit,
retire), bookings on behalf within an Office Admin's scope, stats (JSON and CSV), the audit log,
and the self-test. Role and quota changes are checked on two gateway replicas."""
from __future__ import annotations

import csv
import io
import json
import time
from datetime import timedelta

import psycopg
import pytest
import requests

from .support.admin import ADMIN, Api, counter_drift, day, expect, today, wait_until, who
from .support.fixtures import running_stack

OFFICES = [
    {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 50},
    {"id": "beta", "name": "Office Beta", "quota": 50, "parking_quota": 10},
    {"id": "tiny", "name": "Tiny", "quota": 3, "parking_quota": 1},
    {"id": "old", "name": "Old Office", "quota": 10, "parking_quota": 0, "retired": True},
]
CONFIG = {"offices": OFFICES, "default_weekly_quota": 3, "advance_booking_days": 14, "data_retention_days": 30}
SELFTEST_KEY = "selftest-key-for-the-admin-tests-0123"


@pytest.fixture(scope="module")
def astack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("admin"), CONFIG,
                       extra_env={"SELFTEST_KEY": SELFTEST_KEY}) as s:
        s.launch("gateway", key="gateway2")
        s.wait_ready()
        yield s


@pytest.fixture(scope="module")
def admin(astack) -> Api:
    return Api(astack, ADMIN)


def office_admin(stack, admin: Api, offices: list[str], email: str | None = None) -> Api:
    email = email or who("oa")
    expect(admin.put(f"/api/users/{email}", {"role": {"name": "Office Admin", "offices": offices}}), 200)
    return Api(stack, email)


def audit_records(stack, **filters) -> list[dict]:
    with stack.rpc() as rpc:
        return rpc.audit.list_records(limit=200, **filters)["records"]


# ------------------------------------------------------------------------------ users: list


def test_list_search_filter_and_paginate_while_users_are_added(astack, admin):
    prefix = f"pg{time.monotonic_ns() % 10**8}"
    emails = [f"{prefix}-{c}@my-company.example" for c in "bdfhjln"]
    for e in emails:
        expect(admin.put(f"/api/users/{e}", {}), 200)  # prepared: a profile without a sign-in
    seen, cursor, added = [], None, False
    while True:
        params = {"email_prefix": f"  {prefix.upper()}", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = expect(admin.get("/api/users", **params), 200).json()
        assert len(page["users"]) <= 3
        seen += [u["email"] for u in page["users"]]
        if not added:  # users added while paging: one before the cursor (not shown), one after (shown)
            expect(admin.put(f"/api/users/{prefix}-a@my-company.example", {}), 200)
            expect(admin.put(f"/api/users/{prefix}-z@my-company.example", {}), 200)
            added = True
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert seen == emails + [f"{prefix}-z@my-company.example"]
    user = expect(admin.get("/api/users", email_prefix=emails[0]), 200).json()["users"][0]
    assert set(user) == {"email", "role", "quota", "custom_quota", "auto_approved", "permissions"}


def test_list_filters(astack, admin):
    prefix = f"flt{time.monotonic_ns() % 10**8}"
    plain, quota, auto, oa = (f"{prefix}-{n}@my-company.example" for n in ("plain", "quota", "auto", "oa"))
    expect(admin.put(f"/api/users/{plain}", {}), 200)
    expect(admin.put(f"/api/users/{quota}", {"quota": 0}), 200)
    expect(admin.put(f"/api/users/{auto}", {"auto_approved": True}), 200)
    expect(admin.put(f"/api/users/{oa}", {"role": {"name": "Office Admin", "offices": ["beta"]}}), 200)

    def emails(**filters):
        return [u["email"] for u in expect(admin.get("/api/users", email_prefix=prefix, **filters), 200).json()["users"]]

    assert emails() == sorted([plain, quota, auto, oa])
    assert emails(custom_quota="true") == [quota]
    assert emails(custom_quota="false") == sorted([plain, auto, oa])
    assert emails(auto_approved="true") == [auto]
    assert emails(role="Office Admin") == [oa]
    assert emails(role="Default") == sorted([plain, quota, auto])
    assert emails(role="System Admin") == []
    assert ADMIN in [u["email"] for u in expect(admin.get("/api/users", role="System Admin"), 200).json()["users"]]
    expect(admin.get("/api/users", role="Boss"), 400)
    expect(admin.get("/api/users", cursor="not-a-cursor"), 400, "Invalid cursor")
    expect(admin.get("/api/users", limit="many"), 400)
    assert len(expect(admin.get("/api/users", limit=100000), 200).json()["users"]) <= 200


def test_get_user_defaults_and_disallowed(astack, admin):
    fresh = who("fresh")
    user = expect(admin.get(f"/api/users/{fresh.upper()}"), 200).json()
    assert user["email"] == fresh and user["role"] == {"name": "Default", "offices": []}
    assert user["quota"] == 3 and user["custom_quota"] is False and user["auto_approved"] is False
    expect(admin.get("/api/users/someone@elsewhere.example"), 404, "Not Found")
    expect(admin.put("/api/users/someone@elsewhere.example", {"quota": 1}), 404, "Not Found")
    expect(admin.delete("/api/users/someone@elsewhere.example"), 404, "Not Found")


# ------------------------------------------------------------------------------ users: edit


def test_update_rules(astack, admin):
    target = who("edit")
    u = expect(admin.put(f"/api/users/{target}", {"quota": 0}), 200).json()
    assert u["quota"] == 0 and u["custom_quota"] is True
    u = expect(admin.put(f"/api/users/{target}", {"auto_approved": True}), 200).json()
    assert u["quota"] == 0 and u["auto_approved"] is True  # absent fields unchanged
    u = expect(admin.put(f"/api/users/{target}", {"quota": None}), 200).json()
    assert u["quota"] == 3 and u["custom_quota"] is False and u["auto_approved"] is True
    u = expect(admin.put(f"/api/users/{target}", {"role": {"name": "Office Admin", "offices": ["beta", "alpha", "beta"]}}),
               200).json()
    assert u["role"] == {"name": "Office Admin", "offices": ["alpha", "beta"]}
    assert u["permissions"]["offices_can_manage"] == ["alpha", "beta"] and u["permissions"]["can_view_admin"]
    assert not u["permissions"]["can_edit_users"]
    u = expect(admin.put(f"/api/users/{target}", {"role": {"name": "Office Admin", "offices": ["old"]}}), 200).json()
    assert u["role"]["offices"] == ["old"]  # a retired office exists: its future bookings still need managing
    u = expect(admin.put(f"/api/users/{target}", {"role": {"name": "Default", "offices": []}}), 200).json()
    assert u["role"] == {"name": "Default", "offices": []} and not u["permissions"]["can_view_admin"]

    for body, message in [
        ({"quota": 101}, "Invalid quota: Input should be less than or equal to 100"),
        ({"quota": -1}, "Invalid quota: Input should be greater than or equal to 0"),
        ({"quota": "2"}, "Invalid quota: Input should be a valid integer"),
        ({"auto_approved": None}, "Invalid auto_approved: must be true or false"),
        ({"role": {"name": "Office Admin", "offices": []}}, "An Office Admin needs at least one office"),
        ({"role": {"name": "Office Admin"}}, "An Office Admin needs at least one office"),
        ({"role": {"name": "Office Admin", "offices": ["alpha", "nowhere"]}}, "Unknown office: nowhere"),
        ({"role": {"name": "System Admin", "offices": []}},
         "System Admin cannot be granted: System Admins come from the configuration"),
        ({"role": {"name": "Boss", "offices": []}},
         "Invalid role.name: Input should be 'Default', 'Office Admin' or 'System Admin'"),
    ]:
        expect(admin.put(f"/api/users/{target}", body), 400, message)
    expect(admin.put(f"/api/users/{ADMIN}", {"role": {"name": "Default", "offices": []}}), 400,
           "A System Admin's role comes from the configuration and cannot be changed")
    expect(admin.put(f"/api/users/{ADMIN}", {"role": {"name": "Office Admin", "offices": ["alpha"]}}), 400)
    mine = expect(admin.put(f"/api/users/{ADMIN}", {"auto_approved": True}), 200).json()  # quotas apply to admins too
    assert mine["role"]["name"] == "System Admin" and mine["auto_approved"] is True
    expect(admin.put(f"/api/users/{ADMIN}", {"auto_approved": False}), 200)
    expect(admin.put(f"/api/users/{target}", ["not", "an", "object"]), 400, "Bad request body")
    r = admin.http.put(admin.url(f"/api/users/{target}"), data="quota=1", timeout=10,
                       headers={"Content-Type": "text/plain"})
    expect(r, 415)


def test_only_system_admins_edit_users(astack, admin):
    oa = office_admin(astack, admin, ["alpha"])
    default = Api(astack, who())
    target = who("victim")
    for caller in (oa, default):
        expect(caller.put(f"/api/users/{target}", {"quota": 5}), 403, "Forbidden")
        expect(caller.put(f"/api/users/{caller.email}", {"quota": 50}), 403, "Forbidden")  # not even oneself
        expect(caller.delete(f"/api/users/{target}"), 403, "Forbidden")
    expect(default.get("/api/users"), 403, "Forbidden")
    expect(default.get(f"/api/users/{target}"), 403, "Forbidden")
    assert expect(oa.get(f"/api/users/{target}"), 200).json()["email"] == target  # Office Admins view users
    expect(oa.get("/api/users"), 200)


def test_a_prepared_user_signs_in_with_the_prepared_settings(astack, admin):
    target = who("prep")
    expect(admin.put(f"/api/users/{target}", {"quota": 5, "role": {"name": "Office Admin", "offices": ["beta"]},
                                              "auto_approved": True}), 200)
    me = Api(astack, target).me()
    assert me["role"] == {"name": "Office Admin", "offices": ["beta"]} and me["quota"] == 5
    assert me["auto_approved"] is True and me["custom_quota"] is True


def test_user_changes_are_audited_with_actor_before_and_after(astack, admin):
    target = who("aud")
    expect(admin.put(f"/api/users/{target}", {"quota": 2}), 200)
    expect(admin.put(f"/api/users/{target}", {"role": {"name": "Office Admin", "offices": ["tiny"]}}), 200)
    expect(admin.put(f"/api/users/{target}", {"role": {"name": "Office Admin", "offices": ["tiny"]}}), 200)  # no change

    def records():
        found = [r for r in audit_records(astack, actor=ADMIN) if r["entity_id"] == target]
        return found if len(found) >= 2 else None

    changed = sorted(wait_until(records), key=lambda r: r["at"])
    time.sleep(0.5)
    assert len([r for r in audit_records(astack, actor=ADMIN) if r["entity_id"] == target]) == 2  # nothing for a no-op
    first, second = changed
    assert first["action"] == second["action"] == "user_changed" and first["entity"] == "user"
    assert first["before"] is None  # prepared: the profile did not exist
    assert first["after"] == {"quota": 2, "role": "Default", "offices": [], "auto_approved": False}
    assert second["before"] == first["after"]
    assert second["after"] == {"quota": 2, "role": "Office Admin", "offices": ["tiny"], "auto_approved": False}


# ------------------------------------------------------------------------------ two replicas, within a second


def _within(seconds: float, predicate) -> float:
    """How long until `predicate()` holds; fails if that is more than `seconds`."""
    started = time.monotonic()
    while not predicate():
        elapsed = time.monotonic() - started
        assert elapsed <= seconds, f"not within {seconds}s"
        time.sleep(0.02)
    return time.monotonic() - started


def test_role_and_quota_changes_apply_on_every_replica_and_in_the_booking_decision_within_a_second(astack, admin):
    target = Api(astack, who("rep"))
    on_first, on_second = target, target.on("gateway2")
    # both replicas have the session cached, as Default
    for replica in (on_first, on_second):
        assert replica.me()["role"]["name"] == "Default"
        expect(replica.get("/api/users"), 403)

    expect(admin.put(f"/api/users/{target.email}", {"role": {"name": "Office Admin", "offices": ["beta"]}}), 200)
    for replica in (on_first, on_second):
        _within(1.0, lambda replica=replica: replica.get("/api/users").status_code == 200)
        assert replica.me()["role"] == {"name": "Office Admin", "offices": ["beta"]}
        _within(1.0, lambda replica=replica: replica.book(user=who(), office="beta", date_=day(2)).status_code == 201)

    expect(admin.put(f"/api/users/{target.email}", {"quota": 0}), 200)
    for replica in (on_first, on_second):
        _within(1.0, lambda replica=replica: replica.me()["quota"] == 0)
    # the booking decision sees it too (booking's read model of the user's settings); a new date each
    # try, so a try that was earlier than the change cannot turn the next ones into duplicates
    dates = iter(range(3, 12))
    _within(1.0, lambda: on_second.book(office="alpha", date_=day(next(dates))).json().get("code")
            == "user_quota_exceeded")
    expect(on_first.book(office="alpha", date_=day(12)), 409, "User quota exceeded")

    expect(admin.put(f"/api/users/{target.email}", {"quota": None, "role": {"name": "Default", "offices": []}}), 200)
    for replica in (on_first, on_second):
        _within(1.0, lambda replica=replica: replica.me()["role"]["name"] == "Default" and replica.me()["quota"] == 3)
        expect(replica.get("/api/users"), 403)
    _within(1.0, lambda: on_first.book(office="alpha", date_=day(13)).status_code == 201)


# ------------------------------------------------------------------------------ users: erase


def test_erase_removes_profile_sessions_bookings_mail_and_pseudonymises_the_audit_trail(astack, admin):
    target = Api(astack, who("erase"))
    expect(admin.put(f"/api/users/{target.email}", {"quota": 3, "auto_approved": True}), 200)
    second_session = Api(astack, target.email, "gateway2")
    b1 = expect(target.book(office="tiny", date_=day(5), parking=True), 201).json()
    b2 = expect(admin.book(user=target.email, office="alpha", date_=day(6)), 201).json()
    b3 = expect(target.book(office="beta", date_=day(7)), 201).json()
    expect(target.delete(f"/api/bookings/{b3['id']}"), 204)
    with astack.rpc() as rpc:
        (before,) = rpc.booking.get_slots("tiny", [day(5)])  # booking's own counters
    # every record and mail about the user has arrived (sign-ins, user changes, bookings)
    wait_until(lambda: len([r for r in audit_records(astack) if r["entity_id"] in (b1["id"], b2["id"], b3["id"])]) >= 4)
    astack.smtp.wait_for(target.email, count=5)  # two sign-in codes, three confirmations
    wait_until(lambda: _pending_mail(astack) == 0)
    assert second_session.me()["email"] == target.email

    expect(admin.delete(f"/api/users/{target.email.upper()}"), 204)

    # sessions end on every replica (session_revoked on each, the local cache at once)
    for api in (target, target.on("gateway2"), second_session, second_session.on("gateway")):
        assert wait_until(lambda api=api: api.get("/api/me").status_code == 401, timeout=2)
    # the bookings go and the counters follow, in one transaction
    assert wait_until(lambda: expect(admin.get("/api/bookings", user=target.email, include_cancelled="true"),
                                     200).json() == [])
    def tiny_day5() -> tuple[int, int]:
        slot = {s["date"]: s for s in expect(admin.get("/api/offices/tiny"), 200).json()["slots"]}[day(5)]
        return slot["booked"], slot["booked_parking"]

    with astack.rpc() as rpc:
        (after,) = rpc.booking.get_slots("tiny", [day(5)])
    assert (after["booked"], after["booked_parking"]) == (before["booked"] - 1, before["booked_parking"] - 1)
    # the gateway's availability follows (user_bookings_erased)
    assert wait_until(lambda: tiny_day5() == (after["booked"], after["booked_parking"]), timeout=5)
    assert counter_drift(astack.database_url) == []
    # the profile is gone (a never-seen address: defaults), and not listed
    user = expect(admin.get(f"/api/users/{target.email}"), 200).json()
    assert user["custom_quota"] is False and user["auto_approved"] is False
    assert expect(admin.get("/api/users", email_prefix=target.email), 200).json()["users"] == []

    # no table of any service names the user any more (mail and audit included), once the events are handled
    def tables_naming_the_user() -> list[str]:
        hits = []
        with psycopg.connect(astack.database_url) as conn:
            tables = conn.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema"
                                  " IN ('identity','offices','booking','notify','audit')").fetchall()
            for schema, table in tables:
                if conn.execute(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE lower(t::text) LIKE %s',
                                (f"%{target.email}%",)).fetchone()[0]:
                    hits.append(f"{schema}.{table}")
        return hits

    assert wait_until(lambda: tables_naming_the_user() == [], timeout=10), tables_naming_the_user()
    # the audit trail keeps what happened, under a stable pseudonym
    erased = [r for r in audit_records(astack, actor=ADMIN) if r["action"] == "user_erased"]
    pseudonym = next(r["entity_id"] for r in erased if r["before"] == {
        "quota": 3, "role": "Default", "offices": [], "auto_approved": True})
    assert pseudonym.startswith("erased-") and target.email not in pseudonym
    mine = audit_records(astack, actor=pseudonym)
    assert {"user_signed_in", "booking_created", "booking_cancelled"} <= {r["action"] for r in mine}
    created = next(r for r in audit_records(astack, office="alpha") if r["entity_id"] == b2["id"])
    assert created["actor"] == ADMIN and created["after"]["user"] == pseudonym
    assert any(r["action"] == "user_bookings_erased" and r["entity_id"] == pseudonym and r["after"] == {"bookings": 3}
               for r in audit_records(astack))

    # the address may sign in again later (any allowed address may): a fresh profile, not the old data
    again = Api(astack, target.email)
    assert again.me()["auto_approved"] is False
    assert expect(again.get("/api/bookings", include_cancelled="true"), 200).json() == []


def _pending_mail(stack) -> int:
    with stack.rpc() as rpc:
        return rpc.notify.pending_count()


def test_erase_rules(astack, admin):
    expect(admin.delete(f"/api/users/{ADMIN}"), 400,
           "A System Admin from the configuration cannot be erased: remove the address from system_admin_emails first")
    expect(admin.delete(f"/api/users/{who('never-seen')}"), 204)  # nothing stored: still erased (idempotent)


# ------------------------------------------------------------------------------ offices


def test_create_office_lists_it_last_and_takes_bookings(astack, admin):
    office_id = f"new-{time.monotonic_ns() % 10**8}"
    created = expect(admin.post("/api/offices", {"id": office_id, "name": "  New Office  ", "quota": 2}), 201).json()
    assert created == {"id": office_id, "name": "New Office", "quota": 2, "parking_quota": 0,
                       "timezone": "Europe/London", "retired": False, "check_in_deadline": None}
    # every replica's office read model follows the offices' events within a second
    for replica in (admin, admin.on("gateway2")):
        _within(1.0, lambda replica=replica: expect(replica.get("/api/offices"), 200).json()[-1]["id"] == office_id)
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


# ------------------------------------------------------------------------------ bookings on behalf


def test_office_admin_books_lists_and_cancels_only_in_managed_offices(astack, admin):
    oa = office_admin(astack, admin, ["beta"])
    someone = who("behalf")
    in_beta = expect(oa.book(user=someone, office="beta", date_=day(3)), 201).json()
    expect(oa.book(user=someone, office="alpha", date_=day(3)), 403, "Forbidden")
    in_alpha = expect(admin.book(user=someone, office="alpha", date_=day(4)), 201).json()
    own_alpha = expect(oa.book(office="alpha", date_=day(4)), 201).json()  # their own booking, anywhere

    listed = expect(oa.get("/api/bookings"), 200).json()
    assert {b["office"]["id"] for b in listed} <= {"beta"} and in_beta["id"] in [b["id"] for b in listed]
    assert [b["id"] for b in expect(oa.get("/api/bookings", user=someone), 200).json()] == [in_beta["id"]]
    assert [b["id"] for b in expect(oa.get("/api/bookings", user=oa.email), 200).json()] == [own_alpha["id"]]
    body = expect(oa.get("/api/bookings", office="alpha"), 403, "Forbidden").json()
    assert someone not in json.dumps(body)
    expect(oa.delete(f"/api/bookings/{in_alpha['id']}"), 403, "Forbidden")
    expect(oa.delete(f"/api/bookings/{in_beta['id']}"), 204)
    # quotas apply to bookings on someone's behalf (default weekly quota 3)
    other = who("behalf")
    monday = today() + timedelta(days=7 - today().weekday())
    for offset in range(3):
        expect(oa.book(user=other, office="beta", date_=(monday + timedelta(days=offset)).isoformat()), 201)
    expect(oa.book(user=other, office="beta", date_=(monday + timedelta(days=3)).isoformat()), 409,
           "User quota exceeded")


def test_admins_cancel_until_the_end_of_the_day(astack, admin):
    oa = office_admin(astack, admin, ["beta"])
    user = Api(astack, who())
    b = expect(user.book(office="beta", date_=day(0)), 201).json()
    expect(user.delete(f"/api/bookings/{b['id']}"), 403, "No longer able to cancel booking")
    expect(oa.delete(f"/api/bookings/{b['id']}"), 204)


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
    assert all(set(r) == {"office", "date", "bookings", "parking"} for r in rows)

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
    assert table[0] == ["office", "date", "bookings", "parking"]
    assert ["tiny", date_, str(now["tiny"]["bookings"]), str(now["tiny"]["parking"])] in table[1:]
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


# ------------------------------------------------------------------------------ audit log


def test_audit_log_filters_pagination_and_office_scope(astack, admin):
    office_id = f"aud-{time.monotonic_ns() % 10**8}"
    expect(admin.post("/api/offices", {"id": office_id, "name": "Audited", "quota": 5}), 201)
    for quota in (6, 7, 8):
        expect(admin.put(f"/api/offices/{office_id}", {"quota": quota}), 200)
    records = wait_until(lambda: (r := expect(admin.get("/api/audit", office=office_id), 200).json()["records"])
                         and len(r) == 4 and r)
    assert [r["action"] for r in records] == ["office_updated"] * 3 + ["office_created"]  # newest first
    assert [r["after"]["quota"] for r in records] == [8, 7, 6, 5]
    assert records[0]["before"]["quota"] == 7 and all(r["actor"] == ADMIN for r in records)
    assert set(records[0]) == {"id", "at", "actor", "action", "entity", "entity_id", "office", "before", "after"}

    page1 = expect(admin.get("/api/audit", office=office_id, limit=3), 200).json()
    page2 = expect(admin.get("/api/audit", office=office_id, limit=3, cursor=page1["next_cursor"]), 200).json()
    assert [r["id"] for r in page1["records"] + page2["records"]] == [r["id"] for r in records]
    assert page2["next_cursor"] is None
    assert expect(admin.get("/api/audit", office=office_id, actor=ADMIN.upper(), **{"from": day(-1), "to": day(1)}),
                  200).json()["records"] == records
    assert expect(admin.get("/api/audit", office=office_id, **{"to": day(-2)}), 200).json()["records"] == []
    expect(admin.get("/api/audit", cursor="garbage"), 400, "Invalid cursor")
    expect(admin.get("/api/audit", **{"from": "yesterday"}), 400, "Invalid from date: use YYYY-MM-DD")

    oa = office_admin(astack, admin, [office_id])
    seen = expect(oa.get("/api/audit", limit=200), 200).json()["records"]
    assert seen and {r["office"] for r in seen} == {office_id}
    expect(oa.get("/api/audit", office="alpha"), 403, "Forbidden")
    expect(Api(astack, who()).get("/api/audit"), 403, "Forbidden")


# ------------------------------------------------------------------------------ self-test


def test_selftest_books_and_cancels_for_the_selftest_user(astack, admin):
    url = astack.url("/api/selftest")
    expect(requests.post(url, timeout=30), 403, "Forbidden")
    expect(requests.post(url, headers={"X-Selftest-Key": "wrong-key-wrong-key-wrong"}, timeout=30), 403, "Forbidden")
    r = expect(requests.post(url, headers={"X-Selftest-Key": SELFTEST_KEY}, timeout=30), 200).json()
    assert r == {"office": "alpha", "user": "selftest@my-company.example", "bookings": 1, "date": day(1)}
    listed = expect(admin.get("/api/bookings", user="selftest@my-company.example", include_cancelled="true"), 200).json()
    assert [b["status"] for b in listed if b["date"] == day(1) and b["office"]["id"] == "alpha"][-1] == "cancelled"
    assert not [b for b in listed if b["status"] == "active"]
    again = expect(requests.post(url, headers={"X-Selftest-Key": SELFTEST_KEY}, timeout=30), 200).json()
    assert again["bookings"] == 1  # repeatable: the place was freed


def test_selftest_is_off_without_a_key(stack):
    expect(requests.post(stack.url("/api/selftest"), headers={"X-Selftest-Key": "x" * 30}, timeout=30), 404,
           "Not Found")


# ------------------------------------------------------------------------------ input that cannot be stored


def test_nul_characters_are_a_400_never_a_500(astack, admin):
    """Found by the OpenAPI fuzzer: PostgreSQL refuses NUL in text and JSON."""
    expect(admin.post("/api/offices", {"id": "nul", "name": "a\u0000b", "quota": 1}), 400, "Bad request body")
    expect(admin.book(user=admin.email, office="alpha\u0000"), 400, "Bad request body")
    expect(admin.post("/api/bookings", {"user": admin.email, "office": "alpha", "date": day(1), "reason": "\u0000"}),
           400, "Bad request body")
    expect(admin.get("/api/users/a%00b@my-company.example"), 400, "Bad request")
    expect(admin.get("/api/offices/al%00pha"), 400, "Bad request")
    expect(admin.get("/api/audit", actor="a\u0000b"), 400, "Bad request")
    expect(admin.get("/api/users", email_prefix="\u0000"), 400, "Bad request")
    expect(admin.put("/api/offices/tiny", {"name": "Ti\u0007ny"}), 400, "Invalid name: must not contain control characters")
    expect(requests.get(astack.url("/api/users/a%00b@my-company.example"), timeout=10), 401)  # authentication first
