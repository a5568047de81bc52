"""Bookings through the gateway against the real services (SPEC §4 and §9): every rule of the
table in its order with its exact status and message, cancellation, listing, idempotency,
far-apart time zones, and the emails and audit records a booking causes."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests

from .support.fixtures import running_stack

ADMIN = "admin@my-company.example"
OFFICES = [
    {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 50},
    {"id": "tiny", "name": "Tiny", "quota": 2, "parking_quota": 1},
    {"id": "nopark", "name": "No Parking", "quota": 5, "parking_quota": 0},
    {"id": "kiri", "name": "Kiritimati", "quota": 10, "parking_quota": 0, "timezone": "Pacific/Kiritimati"},
    {"id": "pago", "name": "Pago Pago", "quota": 10, "parking_quota": 0, "timezone": "Pacific/Pago_Pago"},
    {"id": "old", "name": "Old Office", "quota": 10, "parking_quota": 0, "retired": True},
]
CONFIG = {"offices": OFFICES, "default_weekly_quota": 2, "advance_booking_days": 14}


@pytest.fixture(scope="module")
def bstack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("bookings"), CONFIG) as s:
        yield s


def today(zone: str = "Europe/London") -> date:
    return datetime.now(ZoneInfo(zone)).date()


def day(offset: int, zone: str = "Europe/London") -> str:
    return (today(zone) + timedelta(days=offset)).isoformat()


def who(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@my-company.example"


class Api:
    """A signed-in user talking to the gateway."""

    def __init__(self, stack, email: str):
        self.stack, self.email = stack, email
        self.http = stack.client(email)

    def book(self, office="alpha", date_=None, user=None, parking=None, reason=None, headers=None, raw=None):
        body = raw if raw is not None else {"user": user or self.email, "office": office, "date": day(1) if date_ is None else date_}
        if raw is None and parking is not None:
            body["parking"] = parking
        if raw is None and reason is not None:
            body["reason"] = reason
        return self.http.post(self.stack.url("/api/bookings"), json=body, headers=headers or {}, timeout=30)

    def cancel(self, booking_id):
        return self.http.delete(self.stack.url(f"/api/bookings/{booking_id}"), timeout=30)

    def list(self, **params):
        return self.http.get(self.stack.url("/api/bookings"), params=params, timeout=30)


@pytest.fixture(scope="module")
def admin(bstack):
    return Api(bstack, ADMIN)


def user(bstack) -> Api:
    return Api(bstack, who())


# SPEC §18: each message of the table (and of cancellation) has its own stable code.
CODES = {
    "Bad request body": "bad_request_body",
    "Invalid user email address": "invalid_user_email",
    "Forbidden": "forbidden",
    "Invalid date format": "invalid_date_format",
    "Office not found": "office_not_found",
    "Date out of range": "date_out_of_range",
    "Reason to book required": "reason_required",
    "Can't have multiple bookings per day": "duplicate_booking",
    "Office quota exceeded": "office_full",
    "Office parking quota exceeded": "parking_full",
    "User quota exceeded": "user_quota_exceeded",
    "Idempotency key reused": "idempotency_key_reused",
    "No longer able to cancel booking": "too_late_to_cancel",
    "Not Found": "not_found",
    "Unauthorized": "unauthorized",
}


def expect(response, status, message=None):
    assert response.status_code == status, response.text
    if message is not None:
        body = response.json()
        assert body["message"] == message and body["reference"], body
        assert body["code"] == CODES[message], body
    return response


# ------------------------------------------------------------------------------ the happy path


def test_booking_has_every_field(bstack):
    me = user(bstack)
    b = expect(me.book(date_=day(2), parking=True), 201).json()
    assert set(b) == {"id", "user", "office", "date", "parking", "status", "created_at", "cancellable_until",
                      "checked_in_at", "released_at", "created_by"}  # released_at: SPEC §11; created_by: §12
    assert b["released_at"] is None and b["created_by"] == me.email
    assert b["user"] == me.email and b["office"] == {"id": "alpha", "name": "Office Alpha"}
    assert b["date"] == day(2) and b["parking"] is True and b["status"] == "active"
    assert b["created_at"].endswith("Z") and b["checked_in_at"] is None
    assert b["cancellable_until"].startswith(f"{day(2)}T00:00:00")
    assert isinstance(b["id"], str)


def test_parking_defaults_to_false_and_unknown_fields_are_ignored(bstack):
    me = user(bstack)
    b = expect(me.book(raw={"user": me.email.upper(), "office": "alpha", "date": day(3), "colour": "red"}), 201).json()
    assert b["parking"] is False and b["user"] == me.email


# ------------------------------------------------------------------------------ the table, in order


@pytest.mark.parametrize("body, message", [
    ("not json", "Bad request body"),
    ([], "Bad request body"),
    ({"office": "alpha", "date": "2030-01-01"}, "Bad request body"),
    ({"user": 1, "office": "alpha", "date": "2030-01-01"}, "Bad request body"),
    ({"user": "a@my-company.example", "office": "alpha", "date": "2030-01-01", "parking": "yes"}, "Bad request body"),
    ({"user": "a@my-company.example", "office": ["alpha"], "date": "2030-01-01"}, "Bad request body"),
])
def test_rule_1_bad_body(bstack, body, message):
    me = user(bstack)
    if body == "not json":
        r = me.http.post(bstack.url("/api/bookings"), data="{oops", headers={"Content-Type": "application/json"})
    else:
        r = me.http.post(bstack.url("/api/bookings"), json=body)
    expect(r, 400, message)


@pytest.mark.parametrize("address", ["not-an-email", "someone@elsewhere.example"])
def test_rule_2_invalid_or_disallowed_user(bstack, address):
    # checked before rule 3: even a user booking for someone else learns only this
    expect(user(bstack).book(user=address, date_="garbage", office="nowhere"), 400, "Invalid user email address")


def test_rule_3_only_self_or_admins(bstack):
    me = user(bstack)
    expect(me.book(user=who(), date_="garbage", office="nowhere"), 403, "Forbidden")


def test_rule_4_date_format(bstack):
    me = user(bstack)
    for bad in ("2030-02-30", "20300101", "tomorrow", "2030-1-1", ""):
        expect(me.book(date_=bad, office="nowhere"), 400, "Invalid date format")


@pytest.mark.parametrize("office", ["nowhere", "old"])
def test_rule_5_unknown_or_retired_office(bstack, office):
    expect(user(bstack).book(office=office, date_=day(400)), 400, "Office not found")


@pytest.mark.parametrize("offset, status", [(-1, 400), (0, 201), (13, 201), (14, 400), (3650, 400)])
def test_rule_6_window_today_to_advance_minus_one(bstack, offset, status):
    r = user(bstack).book(date_=day(offset))
    expect(r, status, "Date out of range" if status == 400 else None)


def test_rule_8_one_booking_per_user_office_day_but_several_offices_allowed(bstack):
    me = user(bstack)
    expect(me.book(office="alpha", date_=day(4)), 201)
    expect(me.book(office="alpha", date_=day(4), parking=True), 409, "Can't have multiple bookings per day")
    expect(me.book(office="nopark", date_=day(4)), 201)  # another office the same day counts to the quota


def test_rule_9_office_full_and_rule_order_duplicate_first(bstack, admin):
    date_ = day(5)
    a, b, c = user(bstack), user(bstack), user(bstack)
    expect(a.book(office="tiny", date_=date_), 201)
    expect(b.book(office="tiny", date_=date_), 201)
    expect(c.book(office="tiny", date_=date_), 409, "Office quota exceeded")
    # a duplicate is reported as a duplicate even when the office is full (rule 8 before 9)
    expect(a.book(office="tiny", date_=date_), 409, "Can't have multiple bookings per day")


def test_rule_10_parking_full_or_not_offered(bstack):
    date_ = day(6)
    a, b = user(bstack), user(bstack)
    expect(a.book(office="tiny", date_=date_, parking=True), 201)
    expect(b.book(office="tiny", date_=date_, parking=True), 409, "Office parking quota exceeded")
    expect(b.book(office="tiny", date_=date_, parking=False), 201)
    expect(user(bstack).book(office="nopark", date_=date_, parking=True), 409, "Office parking quota exceeded")


def test_rule_11_weekly_quota_across_offices_monday_to_sunday(bstack):
    me = user(bstack)
    monday = today() + timedelta(days=7 - today().weekday())  # next Monday: a whole week in the window
    expect(me.book(office="alpha", date_=monday.isoformat()), 201)
    expect(me.book(office="nopark", date_=(monday + timedelta(days=6)).isoformat()), 201)
    expect(me.book(office="tiny", date_=(monday + timedelta(days=3)).isoformat()), 409, "User quota exceeded")
    # the next week is a new quota
    if (monday + timedelta(days=7) - today()).days < 14:
        expect(me.book(office="alpha", date_=(monday + timedelta(days=7)).isoformat()), 201)


def test_rule_11_admins_booking_on_behalf_are_held_to_the_users_quota(bstack, admin):
    target = who()
    monday = today() + timedelta(days=7 - today().weekday())
    expect(admin.book(user=target, office="alpha", date_=monday.isoformat()), 201)
    expect(admin.book(user=target, office="alpha", date_=(monday + timedelta(days=1)).isoformat()), 201)
    expect(admin.book(user=target, office="alpha", date_=(monday + timedelta(days=2)).isoformat()), 409,
           "User quota exceeded")


# ------------------------------------------------------------------------------ cancellation


def test_owner_cancels_a_future_booking_and_the_place_is_free_at_once(bstack):
    date_ = day(7)
    a, b, c = user(bstack), user(bstack), user(bstack)
    first = expect(a.book(office="tiny", date_=date_), 201).json()
    expect(b.book(office="tiny", date_=date_), 201)
    expect(c.book(office="tiny", date_=date_), 409, "Office quota exceeded")
    expect(a.cancel(first["id"]), 204)
    expect(c.book(office="tiny", date_=date_), 201)
    # the same user may book the same office and day again after cancelling
    expect(a.cancel(first["id"]), 404, "Not Found")
    listed = a.list(include_cancelled="true").json()
    assert [x["status"] for x in listed if x["id"] == first["id"]] == ["cancelled"]
    assert first["id"] not in [x["id"] for x in a.list().json()]


def test_rebooking_after_cancelling(bstack):
    me = user(bstack)
    first = expect(me.book(date_=day(8)), 201).json()
    expect(me.cancel(first["id"]), 204)
    expect(me.book(date_=day(8)), 201)


def test_owner_cannot_cancel_once_the_day_started_but_an_admin_can(bstack, admin):
    me = user(bstack)
    b = expect(me.book(date_=day(0)), 201).json()
    expect(me.cancel(b["id"]), 403, "No longer able to cancel booking")
    expect(admin.cancel(b["id"]), 204)


def test_nobody_cancels_a_booking_whose_day_has_ended(bstack, admin):
    """Past never (SPEC §4): not the owner, not a System Admin. A past booking cannot be made
    through the API, so a booking for tomorrow is moved to yesterday (its counters with it)."""
    me = user(bstack)
    b = expect(me.book(date_=day(1)), 201).json()
    with psycopg.connect(bstack.database_url) as conn:
        conn.execute("UPDATE booking.bookings SET date = %s WHERE id = %s", (day(-1), b["id"]))
        conn.execute("UPDATE booking.day_counts SET booked = booked - 1 WHERE office = 'alpha' AND date = %s",
                     (day(1),))
        conn.execute("INSERT INTO booking.day_counts (office, date, booked, booked_parking, version) "
                     "VALUES ('alpha', %s, 1, 0, 1) ON CONFLICT (office, date) DO UPDATE "
                     "SET booked = day_counts.booked + 1, version = day_counts.version + 1", (day(-1),))
    expect(me.cancel(b["id"]), 403, "No longer able to cancel booking")
    expect(admin.cancel(b["id"]), 403, "No longer able to cancel booking")
    with psycopg.connect(bstack.database_url) as conn:
        assert conn.execute("SELECT status FROM booking.bookings WHERE id = %s", (b["id"],)).fetchone()[0] == "active"


def test_someone_elses_booking(bstack):
    a, b = user(bstack), user(bstack)
    booking = expect(a.book(date_=day(9)), 201).json()
    expect(b.cancel(booking["id"]), 403, "Forbidden")
    expect(b.cancel(uuid.uuid4().hex), 404, "Not Found")
    expect(b.cancel("not-an-id"), 404, "Not Found")


def test_unauthenticated_and_read_only_order(bstack):
    expect(requests.post(bstack.url("/api/bookings"), json={}, timeout=10), 401, "Unauthorized")
    expect(requests.delete(bstack.url(f"/api/bookings/{uuid.uuid4().hex}"), timeout=10), 401, "Unauthorized")
    expect(requests.get(bstack.url("/api/bookings"), timeout=10), 401, "Unauthorized")


# ------------------------------------------------------------------------------ listing


def test_listing_rules(bstack, admin):
    a, b = user(bstack), user(bstack)
    ba = expect(a.book(office="alpha", date_=day(10)), 201).json()
    bb = expect(b.book(office="nopark", date_=day(9)), 201).json()
    assert [x["id"] for x in a.list().json()] == [ba["id"]]  # a Default user gets their own
    expect(a.list(user=b.email), 403, "Forbidden")
    assert [x["id"] for x in a.list(user=a.email.upper()).json()] == [ba["id"]]
    everyone = admin.list().json()
    ids = [x["id"] for x in everyone]
    assert ba["id"] in ids and bb["id"] in ids
    assert everyone == sorted(everyone, key=lambda x: (x["date"], x["office"]["id"]))
    assert [x["id"] for x in admin.list(user=b.email).json()] == [bb["id"]]
    assert all(x["office"]["id"] == "nopark" for x in admin.list(office="nopark").json())
    assert [x["id"] for x in admin.list(user=a.email, date=day(10)).json()] == [ba["id"]]
    assert admin.list(user=a.email, **{"from": day(11)}).json() == []
    assert [x["id"] for x in admin.list(user=a.email, to=day(10)).json()] == [ba["id"]]
    expect(admin.list(date="2030-02-30"), 400, "Invalid date format")


# ------------------------------------------------------------------------------ slots


def test_office_slots_follow_bookings(bstack, admin):
    date_ = day(11)
    before = {s["date"]: s for s in admin.http.get(bstack.url("/api/offices/tiny")).json()["slots"]}[date_]
    me = user(bstack)
    b = expect(me.book(office="tiny", date_=date_, parking=True), 201).json()
    after = {s["date"]: s for s in admin.http.get(bstack.url("/api/offices/tiny")).json()["slots"]}[date_]
    assert (after["booked"], after["booked_parking"]) == (before["booked"] + 1, before["booked_parking"] + 1)
    expect(me.cancel(b["id"]), 204)
    again = {s["date"]: s for s in admin.http.get(bstack.url("/api/offices/tiny")).json()["slots"]}[date_]
    assert again == before


# ------------------------------------------------------------------------------ idempotency


def test_idempotent_retry_returns_the_first_response_and_books_once(bstack):
    me = user(bstack)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = expect(me.book(date_=day(12), headers=key), 201)
    again = expect(me.book(date_=day(12), headers=key), 201)
    assert again.json() == first.json()
    assert len(me.list(date=day(12)).json()) == 1
    expect(me.book(date_=day(13), headers=key), 409, "Idempotency key reused")


def test_idempotent_rejection_is_replayed(bstack):
    me = user(bstack)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    expect(me.book(office="nopark", date_=day(12), parking=True, headers=key), 409, "Office parking quota exceeded")
    expect(me.book(office="nopark", date_=day(12), parking=True, headers=key), 409, "Office parking quota exceeded")


def test_concurrent_retries_with_one_key_book_once(bstack):
    me = user(bstack)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda _: me.book(office="alpha", date_=day(13), headers=key), range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(me.list(date=day(13)).json()) == 1


def test_one_key_with_different_requests_at_once_books_one_of_them(bstack):
    """The key is written after the decision, with its answer: of concurrent first attempts with
    one key but different days, exactly one is booked; every other attempt rolls back and is told
    the key was reused (or, for a retry of the winner, gets its booking)."""
    me = user(bstack)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    days = [day(8), day(9), day(10), day(11)] * 3
    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(lambda d: me.book(office="alpha", date_=d, headers=key), days))
    booked = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(booked) == 1, [(r.status_code, r.text) for r in responses]
    assert {r.status_code for r in responses} <= {201, 409}
    assert all(r.json()["message"] == "Idempotency key reused" for r in responses if r.status_code == 409)
    assert [b["id"] for d in set(days) for b in me.list(date=d).json()] == list(booked)


def test_idempotency_keys_are_scoped_to_the_caller(bstack):
    a, b = user(bstack), user(bstack)
    key = {"Idempotency-Key": "shared-key"}
    ra, rb = expect(a.book(date_=day(11), headers=key), 201), expect(b.book(date_=day(11), headers=key), 201)
    assert ra.json()["id"] != rb.json()["id"]


# ------------------------------------------------------------------------------ far-apart time zones


@pytest.mark.parametrize("office, zone, offset", [("kiri", "Pacific/Kiritimati", "+14:00"),
                                                  ("pago", "Pacific/Pago_Pago", "-11:00")])
def test_window_and_deadline_follow_the_office_zone(bstack, office, zone, offset):
    me = user(bstack)
    expect(me.book(office=office, date_=day(-1, zone)), 400, "Date out of range")
    expect(me.book(office=office, date_=day(14, zone)), 400, "Date out of range")
    b = expect(me.book(office=office, date_=day(13, zone)), 201).json()
    assert b["cancellable_until"] == f"{day(13, zone)}T00:00:00{offset}"
    other = user(bstack)
    expect(other.book(office=office, date_=day(0, zone)), 201)


def test_far_apart_zones_have_different_todays(bstack):
    """Kiritimati's today is always at least one day after Pago Pago's: the same date is
    bookable in one office and out of range in the other."""
    assert (today("Pacific/Kiritimati") - today("Pacific/Pago_Pago")).days in (1, 2)
    me = user(bstack)
    expect(me.book(office="pago", date_=day(-1, "Pacific/Kiritimati")), 201)  # today or yesterday for Pago
    expect(me.book(office="kiri", date_=day(-1, "Pacific/Kiritimati")), 400, "Date out of range")


# ------------------------------------------------------------------------------ effects: mail and audit


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_confirmation_mail_with_calendar_and_notice_when_someone_else_cancels(bstack, admin):
    me = user(bstack)
    b = expect(admin.book(user=me.email, office="alpha", date_=day(6), parking=True), 201).json()
    mails = bstack.smtp.wait_for(me.email, count=2)  # sign-in code, then the confirmation
    confirmation = next(m for m in mails if m["Subject"].startswith("Booking confirmed"))
    assert "Office Alpha" in confirmation["Subject"] and "Booked for you by admin@my-company.example" in \
        bstack.smtp.text(confirmation)
    ics = next(p for p in confirmation.iter_attachments() if p.get_content_type() == "text/calendar")
    text = ics.get_content()
    assert "BEGIN:VEVENT" in text and f"DTSTART;VALUE=DATE:{day(6).replace('-', '')}" in text
    assert f"UID:{b['id']}@office-booker" in text
    expect(admin.cancel(b["id"]), 204)
    notice = bstack.smtp.wait_for(me.email, count=3)[-1]
    assert notice["Subject"].startswith("Booking cancelled") and "admin@my-company.example" in bstack.smtp.text(notice)


def test_no_notice_when_owners_cancel_their_own(bstack, admin):
    me = user(bstack)
    own = expect(me.book(date_=day(9)), 201).json()
    other = expect(me.book(date_=day(8)), 201).json()
    bstack.smtp.wait_for(me.email, count=3)  # sign-in code, two confirmations
    expect(me.cancel(own["id"]), 204)
    # the marker: an admin's cancel, published after the owner's, does mail a notice; by then notify
    # has handled the owner's cancel too
    expect(admin.cancel(other["id"]), 204)
    mails = bstack.smtp.wait_for(me.email, count=4)
    notices = [m for m in mails if m["Subject"].startswith("Booking cancelled")]
    assert len(mails) == 4 and notices == [mails[-1]]  # the admin's alone


def test_bookings_and_cancellations_are_audited_with_actor_before_and_after(bstack, admin):
    me = user(bstack)
    b = expect(me.book(date_=day(10)), 201).json()
    expect(admin.cancel(b["id"]), 204)

    def records():
        with bstack.rpc() as rpc:
            return [r for r in rpc.audit.list_records(office="alpha", limit=200)["records"] if r["entity_id"] == b["id"]]

    found = wait_until(lambda: len(records()) == 2 and records())
    created = next(r for r in found if r["action"] == "booking_created")
    cancelled = next(r for r in found if r["action"] == "booking_cancelled")
    assert created["actor"] == me.email and created["after"]["status"] == "active" and created["before"] is None
    assert cancelled["actor"] == ADMIN and cancelled["before"]["status"] == "active"
    assert cancelled["after"]["status"] == "cancelled"


def test_counters_equal_a_recount(bstack):
    with psycopg.connect(bstack.database_url) as conn:
        drift = conn.execute("""
            SELECT c.office, c.date, c.booked, c.booked_parking, count(b.id), count(b.id) FILTER (WHERE b.parking)
            FROM booking.day_counts c
            LEFT JOIN booking.bookings b ON b.office = c.office AND b.date = c.date AND b.status = 'active'
            GROUP BY c.office, c.date, c.booked, c.booked_parking
            HAVING c.booked <> count(b.id) OR c.booked_parking <> count(b.id) FILTER (WHERE b.parking)
        """).fetchall()
    assert drift == []


# ------------------------------------------------------------------------------ reason to book


REASON_CONFIG = {**CONFIG, "reason_to_book_required": True, "notification_to_address": "facilities@my-company.example"}


@pytest.fixture(scope="module")
def rstack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("reason"), REASON_CONFIG) as s:
        yield s


def test_rule_7_reason_required_and_notified_but_stored_nowhere(rstack):
    me = Api(rstack, who())
    expect(me.book(date_=day(1)), 400, "Reason to book required")
    expect(me.book(date_=day(1), reason="   "), 400, "Reason to book required")
    # rule 7 comes after the window (6) and before duplicates (8)
    expect(me.book(date_=day(99)), 400, "Date out of range")
    secret = f"visiting the lab {uuid.uuid4().hex[:6]}"
    b = expect(me.book(date_=day(1), reason=secret), 201).json()
    mail = rstack.smtp.wait_for("facilities@my-company.example")[-1]
    assert mail["Subject"].strip() == f"Booking on {b['date']} by {me.email} at Office Alpha"
    assert secret in rstack.smtp.text(mail)
    config = requests.get(rstack.url("/api/config"), timeout=10).json()
    assert config["reason_to_book_required"] is True
    # the reason is in no table of any service once the mail has gone
    wait_until(lambda: _pending_mail(rstack) == 0)
    # and audit has recorded the booking (the event it keeps must not hold the reason either)
    with rstack.rpc() as rpc:
        assert wait_until(lambda: any(r["entity_id"] == b["id"] and r["action"] == "booking_created"
                                      for r in rpc.audit.list_records(actor=me.email, limit=200)["records"]))
    with psycopg.connect(rstack.database_url) as conn:
        for schema, table in conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                          "WHERE table_schema IN ('identity','offices','booking','notify','audit')"):
            hits = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}" t WHERE t::text LIKE %s',
                                (f"%{secret}%",)).fetchone()[0]
            assert hits == 0, f"{schema}.{table} keeps the reason"


def _pending_mail(stack) -> int:
    with stack.rpc() as rpc:
        return rpc.notify.pending_count()


def test_rule_7_applies_to_bookings_an_admin_makes_on_someones_behalf(rstack):
    """Quotas and the reason apply whoever books (SPEC §1); the mail names the booked-for user."""
    admin, someone = Api(rstack, ADMIN), who()
    expect(admin.book(user=someone, date_=day(2)), 400, "Reason to book required")
    reason = f"on behalf {uuid.uuid4().hex[:6]}"
    before = len(rstack.smtp.to("facilities@my-company.example"))
    b = expect(admin.book(user=someone, date_=day(2), reason=reason), 201).json()
    assert b["user"] == someone
    mails = rstack.smtp.wait_for("facilities@my-company.example", before + 1)[before:]
    [mail] = [m for m in mails if reason in rstack.smtp.text(m)]
    assert mail["Subject"].strip() == f"Booking on {b['date']} by {someone} at Office Alpha"


def test_a_create_without_a_key_is_named_by_the_gateway_so_a_redelivery_is_answered(bstack):
    """Without an Idempotency-Key the gateway sends booking a key of its own, so a call the broker
    delivers again after booking committed it is answered with the first booking (the redelivery
    itself: services/booking/tests/interface/test_redelivery.py)."""
    me = user(bstack)
    b = expect(me.book(date_=day(3)), 201).json()
    with psycopg.connect(bstack.database_url) as conn:
        rows = conn.execute("SELECT key, response FROM booking.idempotency_keys WHERE caller = %s",
                            (me.email,)).fetchall()
    assert [(k.startswith("gateway:"), r["booking"]["id"]) for k, r in rows] == [(True, b["id"])]
    expect(me.book(date_=day(3)), 409)  # a refusal under the gateway's name is not kept (nothing to repeat)
    with psycopg.connect(bstack.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM booking.idempotency_keys WHERE caller = %s",
                            (me.email,)).fetchone() == (1,)
