"""Users through the gateway (SPEC §1, §3, §6, §8, §9): list, search, filters, pagination, edit,
prepared users, erasure; role and quota changes on two gateway replicas within a second."""
from __future__ import annotations

import time

import psycopg

from ..support.admin import ADMIN, Api, counter_drift, day, expect, wait_until, who
from .common import audit_records, office_admin, within

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
    assert first["after"] == {"quota": 2, "role": "Default", "offices": [], "auto_approved": False, "active": True}
    assert second["before"] == first["after"]
    assert second["after"] == {"quota": 2, "role": "Office Admin", "offices": ["tiny"], "auto_approved": False,
                               "active": True}


# ------------------------------------------------------------------------------ two replicas, within a second


def test_role_and_quota_changes_apply_on_every_replica_and_in_the_booking_decision_within_a_second(astack, admin):
    target = Api(astack, who("rep"))
    on_first, on_second = target, target.on("gateway2")
    # both replicas have the session cached, as Default
    for replica in (on_first, on_second):
        assert replica.me()["role"]["name"] == "Default"
        expect(replica.get("/api/users"), 403)

    expect(admin.put(f"/api/users/{target.email}", {"role": {"name": "Office Admin", "offices": ["beta"]}}), 200)
    for replica in (on_first, on_second):
        within(1.0, lambda replica=replica: replica.get("/api/users").status_code == 200)
        assert replica.me()["role"] == {"name": "Office Admin", "offices": ["beta"]}
        within(1.0, lambda replica=replica: replica.book(user=who(), office="beta", date_=day(2)).status_code == 201)

    expect(admin.put(f"/api/users/{target.email}", {"quota": 0}), 200)
    for replica in (on_first, on_second):
        within(1.0, lambda replica=replica: replica.me()["quota"] == 0)
    # the booking decision sees it too (booking's read model of the user's settings); a new date each
    # try, so a try that was earlier than the change cannot turn the next ones into duplicates
    dates = iter(range(3, 12))
    within(1.0, lambda: on_second.book(office="alpha", date_=day(next(dates))).json().get("code")
            == "user_quota_exceeded")
    expect(on_first.book(office="alpha", date_=day(12)), 409, "User quota exceeded")

    expect(admin.put(f"/api/users/{target.email}", {"quota": None, "role": {"name": "Default", "offices": []}}), 200)
    for replica in (on_first, on_second):
        within(1.0, lambda replica=replica: replica.me()["role"]["name"] == "Default" and replica.me()["quota"] == 3)
        expect(replica.get("/api/users"), 403)
    within(1.0, lambda: on_first.book(office="alpha", date_=day(13)).status_code == 201)


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
        "quota": 3, "role": "Default", "offices": [], "auto_approved": True, "active": True})
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
