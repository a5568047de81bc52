"""Property-based tests of the booking invariants (SPEC §4), against the real database.

A Hypothesis state machine makes random sequences of bookings and cancellations across users,
offices (in far-apart time zones), days around a new year and per-user quotas, through the
same repository functions the service runs, with an injected clock. After every step:
- the outcome equals that of an independent model of SPEC §4's table (written here, not taken
  from the code under test);
- no office or car park is over its quota, no user over their weekly quota, no user has two
  active bookings at one office on one day;
- the counters equal a recount of the bookings they count.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from obcommon.config import AppConfig
from obcommon.migrate import upgrade
from obcommon.service import Db
from services.booking import exceptions as errors
from services.booking import repository
from services.booking.models import Base

NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)  # a Thursday; the week spans the new year
OFFICES: dict[str, dict[str, Any]] = {
    "lon": {"quota": 2, "parking_quota": 1, "timezone": "Europe/London"},
    "kir": {"quota": 1, "parking_quota": 0, "timezone": "Pacific/Kiritimati"},
    "pag": {"quota": 3, "parking_quota": 2, "timezone": "Pacific/Pago_Pago"},
    "old": {"quota": 5, "parking_quota": 5, "timezone": "Europe/London", "retired": True},
}
USERS = ["u0@my-company.example", "u1@my-company.example", "u2@my-company.example", "u3@my-company.example"]
ADVANCE = 5
CONFIG = AppConfig(advance_booking_days=ADVANCE, default_weekly_quota=2)


@pytest.fixture(scope="module")
def db(database_server):
    from tests.support.infra import fresh_database

    # The repository runs in this process, as in the service: it derives the idempotency
    # fingerprints' key from SECRET_KEY like a deployment does.
    os.environ.setdefault("SECRET_KEY", "booking-invariants-secret-key-0123456789")
    with fresh_database(database_server) as url:
        upgrade(url, ["booking"])
        standalone = Db.standalone(url, Base, "booking")
        yield standalone, url
        standalone.dispose()


# ------------------------------------------------------------------------------ the model


@dataclass
class ModelBooking:
    id: str
    user: str
    office: str
    day: date
    parking: bool
    active: bool = True


def office_today(office: str) -> date:
    return NOW.astimezone(ZoneInfo(OFFICES[office]["timezone"])).date()


def expected_create(state: list[ModelBooking], quotas: dict, user: str, office: str, day: date, parking: bool):
    """SPEC §4 rules 5–11, in order, from the spec's words."""
    o = OFFICES.get(office)
    if o is None or o.get("retired"):
        return errors.OfficeNotFound
    if not office_today(office) <= day <= office_today(office) + timedelta(days=ADVANCE - 1):
        return errors.DateOutOfRange
    active = [b for b in state if b.active]
    if any(b.user == user and b.office == office and b.day == day for b in active):
        return errors.DuplicateBooking
    if sum(b.office == office and b.day == day for b in active) >= o["quota"]:
        return errors.OfficeFull
    if parking and sum(b.office == office and b.day == day and b.parking for b in active) >= o["parking_quota"]:
        return errors.ParkingFull
    monday = day - timedelta(days=day.weekday())
    used = sum(b.user == user and monday <= b.day <= monday + timedelta(days=6) for b in active)
    quota = quotas[user] if quotas[user] is not None else CONFIG.default_weekly_quota
    if used >= quota:
        return errors.UserQuotaExceeded
    return None


def expected_cancel(b: ModelBooking, by_owner: bool):
    if not b.active:
        return errors.BookingNotFound
    start = datetime.combine(b.day, datetime.min.time(), tzinfo=ZoneInfo(OFFICES[b.office]["timezone"]))
    deadline = start if by_owner else start + timedelta(days=1)
    return None if NOW < deadline else errors.TooLateToCancel


# ------------------------------------------------------------------------------ the machine


class BookingMachine(RuleBasedStateMachine):
    db: Db
    url: str

    @initialize(quotas=st.lists(st.sampled_from([None, 0, 1, 2, 3]), min_size=len(USERS), max_size=len(USERS)))
    def setup(self, quotas):
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("TRUNCATE booking.bookings, booking.day_counts, booking.offices, booking.user_settings, "
                         "booking.idempotency_keys, booking.outbox")
        for office_id, o in OFFICES.items():
            repository.upsert_office(self.db, {"id": office_id, "name": office_id.upper(), "retired": False, **o}, 1)
        self.quotas = dict(zip(USERS, quotas, strict=False))
        for user, quota in self.quotas.items():
            repository.upsert_user_settings(self.db, user, {"quota": quota, "auto_approved": False})
        self.state: list[ModelBooking] = []

    @rule(user=st.sampled_from(USERS), office=st.sampled_from([*OFFICES, "nowhere"]),
          offset=st.integers(-2, ADVANCE + 1), parking=st.booleans())
    def create(self, user, office, offset, parking):
        day = date(2026, 12, 31) + timedelta(days=offset)
        expected = expected_create(self.state, self.quotas, user, office, day, parking)
        request = {"user": user, "office": office, "date": day.isoformat(), "parking": parking, "reason": None}
        try:
            booking, _ = repository.create_booking(self.db, CONFIG, request, user, None, NOW)
        except errors.BookingError as exc:
            assert type(exc) is expected, f"got {type(exc).__name__}, model says {expected}"
            return
        assert expected is None, f"booked, model says {expected.__name__}"
        self.state.append(ModelBooking(booking["id"], user, office, day, parking))

    @rule(data=st.data(), by_owner=st.booleans())
    def cancel(self, data, by_owner):
        if not self.state:
            return
        b = data.draw(st.sampled_from(self.state))
        caller = {"email": b.user, "system_admin": False, "offices": []} if by_owner else \
            {"email": "admin@my-company.example", "system_admin": True, "offices": []}
        expected = expected_cancel(b, by_owner)
        try:
            repository.cancel_booking(self.db, CONFIG, b.id, caller, NOW)
        except errors.BookingError as exc:
            assert type(exc) is expected, f"got {type(exc).__name__}, model says {expected}"
            return
        assert expected is None
        b.active = False

    @invariant()
    def database_matches_model_and_counters_match_recount(self):
        if not hasattr(self, "state"):
            return
        with psycopg.connect(self.url) as conn:
            active = {r[0] for r in conn.execute("SELECT id FROM booking.bookings WHERE status = 'active'")}
            drift = conn.execute("""
                SELECT c.office, c.date FROM booking.day_counts c
                LEFT JOIN booking.bookings b ON b.office = c.office AND b.date = c.date AND b.status = 'active'
                GROUP BY c.office, c.date, c.booked, c.booked_parking
                HAVING c.booked <> count(b.id) OR c.booked_parking <> count(b.id) FILTER (WHERE b.parking)
            """).fetchall()
            over = conn.execute("""
                SELECT c.office, c.date FROM booking.day_counts c JOIN booking.offices o ON o.id = c.office
                WHERE c.booked > o.quota OR c.booked_parking > o.parking_quota
            """).fetchall()
            dupes = conn.execute("""SELECT "user", office, date FROM booking.bookings WHERE status = 'active'
                                    GROUP BY 1, 2, 3 HAVING count(*) > 1""").fetchall()
        assert active == {b.id for b in self.state if b.active}
        assert drift == [] and over == [] and dupes == []
        for user in USERS:
            quota = self.quotas[user] if self.quotas[user] is not None else CONFIG.default_weekly_quota
            weeks: dict[date, int] = {}
            for b in self.state:
                if b.active and b.user == user:
                    monday = b.day - timedelta(days=b.day.weekday())
                    weeks[monday] = weeks.get(monday, 0) + 1
            assert all(n <= quota for n in weeks.values())


def test_booking_invariants_hold_for_random_sequences(db):
    BookingMachine.db, BookingMachine.url = db
    BookingMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=40, deadline=None,
                                                suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.filter_too_much])
    BookingMachine.TestCase().runTest()


def test_retention_deletes_old_bookings_counters_and_keys(db):
    """SPEC §4 retention, with the clock injected: older than data_retention_days goes."""
    standalone, url = db
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE booking.bookings, booking.day_counts, booking.idempotency_keys")
        for day, booking_id in (("2026-11-30", "old"), ("2026-12-01", "kept")):
            conn.execute("INSERT INTO booking.bookings (id, \"user\", office, date, parking, status, created_at, "
                         "created_by) VALUES (%s, 'u@my-company.example', 'lon', %s, false, 'active', now(), 'x')",
                         (booking_id, day))
            conn.execute("INSERT INTO booking.day_counts VALUES ('lon', %s, 1, 0, 1)", (day,))
        conn.execute("INSERT INTO booking.idempotency_keys VALUES ('u@my-company.example', 'k-old', 'f', null, %s),"
                     " ('u@my-company.example', 'k-new', 'f', null, %s)",
                     (NOW - timedelta(hours=25), NOW - timedelta(hours=23)))
    config = AppConfig(data_retention_days=30)
    assert repository.purge_expired(standalone, config, NOW) == {"bookings": 1, "idempotency_keys": 1}
    with psycopg.connect(url) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM booking.bookings")] == ["kept"]
        assert [str(r[0]) for r in conn.execute("SELECT date FROM booking.day_counts")] == ["2026-12-01"]
        assert [r[0] for r in conn.execute("SELECT key FROM booking.idempotency_keys")] == ["k-new"]


def test_retention_counts_days_in_each_offices_zone(db):
    """At 05:00 UTC on 31 December it is still the 30th in Pago Pago (UTC−11) and already the
    31st in Kiritimati (UTC+14): with 30 days' retention, a booking of 30 November has left
    Kiritimati's visible range but not Pago Pago's. An office the read model lacks keeps its
    bookings until they are old in the latest zone (UTC−12)."""
    standalone, url = db
    now = datetime(2026, 12, 31, 5, 0, tzinfo=UTC)
    for office in ("kir", "pag"):
        repository.upsert_office(standalone, {"id": office, "name": office, "retired": False, **OFFICES[office]}, 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE booking.bookings, booking.day_counts, booking.idempotency_keys")
        conn.execute("DELETE FROM booking.offices WHERE id = 'gone'")
        for office in ("kir", "pag", "gone"):
            for day in ("2026-11-29", "2026-11-30", "2026-12-01"):
                conn.execute("INSERT INTO booking.bookings (id, \"user\", office, date, parking, status, created_at, "
                             "created_by) VALUES (%s, 'u@my-company.example', %s, %s, false, 'active', now(), 'x')",
                             (f"{office}-{day}", office, day))
                conn.execute("INSERT INTO booking.day_counts VALUES (%s, %s, 1, 0, 1)", (office, day))
    purged = repository.purge_expired(standalone, AppConfig(data_retention_days=30), now)
    with psycopg.connect(url) as conn:
        left = sorted(r[0] for r in conn.execute("SELECT id FROM booking.bookings"))
        counters = sorted(f"{r[0]}-{r[1]}" for r in conn.execute("SELECT office, date FROM booking.day_counts"))
    assert left == ["gone-2026-11-30", "gone-2026-12-01", "kir-2026-12-01", "pag-2026-11-30", "pag-2026-12-01"]
    assert counters == left
    assert purged["bookings"] == 4


def test_an_older_copy_of_an_office_never_replaces_a_newer_one(db):
    """The read model's copies arrive in any order: two replicas take the office's events, and the
    periodic sync may read the office before a change and write after that change's event. A copy
    with a lower `version` is ignored; the same or a higher one is applied (an event replayed, the
    next change)."""
    standalone, url = db
    office = {"id": "ver", "name": "VER", "retired": False, **OFFICES["lon"]}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM booking.offices WHERE id = 'ver'")
    repository.upsert_office(standalone, {**office, "retired": True}, 2)  # retired (version 2)
    repository.upsert_office(standalone, office, 1)  # the sync's copy, read before it
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT retired, version FROM booking.offices WHERE id = 'ver'").fetchone() == (True, 2)
        assert conn.execute("SELECT quota FROM booking.offices WHERE id = 'ver'").fetchone() == (2,)
    repository.upsert_office(standalone, {**office, "retired": True, "quota": 7}, 2)  # the same version: applied
    repository.upsert_office(standalone, {**office, "name": "Renamed"}, 3)  # un-retired and renamed
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT retired, name, version FROM booking.offices WHERE id = 'ver'"
                            ).fetchone() == (False, "Renamed", 3)


def only_london(standalone: Db, url: str) -> None:
    """An empty booking database with one office, "lon"."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE booking.bookings, booking.day_counts, booking.offices, booking.user_settings, "
                     "booking.idempotency_keys")
    repository.upsert_office(standalone, {"id": "lon", "name": "LON", "retired": False, **OFFICES["lon"]}, 1)


def test_an_idempotency_key_is_honoured_for_24_hours_only(db):
    """A retry within 24 h replays the first answer (a different body is "reused"); after 24 h the
    key is free again, even before the retention job has deleted it."""
    standalone, url = db
    only_london(standalone, url)
    user = USERS[0]
    first = {"user": user, "office": "lon", "date": "2026-12-31", "parking": False, "reason": None}
    other = {**first, "date": "2027-01-01"}
    booking, event = repository.create_booking(standalone, CONFIG, first, user, "k1", NOW)
    assert event is not None
    later = NOW + timedelta(hours=23, minutes=59)
    assert repository.create_booking(standalone, CONFIG, first, user, "k1", later) == (booking, None)
    with pytest.raises(errors.IdempotencyKeyReused):
        repository.create_booking(standalone, CONFIG, other, user, "k1", later)
    expired = NOW + timedelta(hours=24)
    again, event = repository.create_booking(standalone, CONFIG, other, user, "k1", expired)
    assert event is not None and again["id"] != booking["id"] and again["date"] == "2027-01-01"


def test_a_call_delivered_twice_at_once_answers_the_first_deliverys_booking(db):
    """The broker delivers a call again when a connection dies while the first delivery still runs:
    two deliveries of one create (one key, as the gateway names a call) can run at once. The second
    passes the lock-free preview (nothing committed yet), waits for the office-day lock the first
    holds, and then sees the first's booking: it answers that booking, not "already booked"."""
    standalone, url = db
    only_london(standalone, url)
    user = USERS[1]
    request = {"user": user, "office": "lon", "date": "2026-12-31", "parking": False, "reason": None}
    answers: dict[str, Any] = {}

    def deliver(name: str) -> None:
        try:
            answers[name] = repository.create_booking(standalone, CONFIG, request, user, "gateway:call-1", NOW,
                                                      keep_refusals=False)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            answers[name] = exc

    def waiting(conn) -> int:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()").fetchone()[0]

    with psycopg.connect(url, autocommit=True) as holder, psycopg.connect(url, autocommit=True) as watch:
        # the first delivery stops on the user's week lock, holding the office-day row
        holder.execute("SELECT pg_advisory_lock(hashtext(%s))", (repository._week_key(user, date(2026, 12, 31)),))
        first = threading.Thread(target=deliver, args=("first",))
        first.start()
        deadline = time.monotonic() + 10
        while waiting(watch) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        second = threading.Thread(target=deliver, args=("second",))
        second.start()
        while waiting(watch) < 2 and time.monotonic() < deadline:  # the second waits for the office-day row
            time.sleep(0.01)
        assert waiting(watch) == 2, answers
        holder.execute("SELECT pg_advisory_unlock_all()")
        first.join(10)
        second.join(10)
    booking, event = answers["first"]
    assert event is not None
    assert answers["second"] == (booking, None)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM booking.bookings").fetchone() == (1,)
