"""Recurring occurrences (SPEC §14) are booked exactly once when their date enters the window at
the office's local midnight, with two booking processes and a restart, against the real broker
and database. The office's zone is chosen so that its midnight is minutes away; the restarted
processes' job clock is shifted past it (RELEASE_CLOCK_SKEW_SECONDS, the jobs' test clock), so
the test does not wait for a real midnight."""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from obcommon.messaging import wait_for
from tests.support.admin import counter_drift
from tests.support.infra import fresh_database, fresh_vhost
from tests.support.stack import Stack


def _zone_before_midnight() -> tuple[str, int]:
    """An Etc/GMT zone whose local time is late in the evening now (23:xx, or 22:xx when 23:xx is
    too close to midnight for the test's first minute), and the seconds until its midnight plus 2
    minutes: the restarted processes' job clock is shifted by that much."""
    now = datetime.now(UTC)
    want = 23 if now.minute < 50 else 22
    for offset in range(-12, 15):
        zone = f"Etc/GMT{'+' if offset <= 0 else '-'}{abs(offset)}" if offset else "UTC"
        local = now.astimezone(ZoneInfo(zone))
        if local.hour == want:
            midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=local.tzinfo)
            return zone, int((midnight - local).total_seconds()) + 120
    raise AssertionError("the Etc/GMT zones cover every hour")


def _occurrences(db_url: str, pattern_id: str) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT date, status FROM booking.occurrences WHERE pattern_id = %s ORDER BY date",
                            (pattern_id,)).fetchall()


def _bookings(db_url: str, user: str) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT date, status, created_by FROM booking.bookings WHERE \"user\" = %s"
                            " ORDER BY date", (user,)).fetchall()


def test_occurrences_are_booked_once_across_midnight_two_processes_and_a_restart(database_server, amqp_server,
                                                                                   tmp_path):
    zone, skew = _zone_before_midnight()
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path, config={"default_weekly_quota": 7, "advance_booking_days": 5})
        try:
            stack.start()
            office = f"rec-{uuid.uuid4().hex[:6]}"
            user = f"reg-{uuid.uuid4().hex[:6]}@my-company.example"
            with stack.rpc() as rpc:
                rpc.offices.create_office({"id": office, "name": "Regular Office", "quota": 10, "parking_quota": 0,
                                           "timezone": zone}, "admin@my-company.example")
                wait_for(lambda: _known(db_url, office), timeout=15, interval=0.1, what="booking's copy of the office")
                pattern = rpc.booking.create_pattern({"office": office, "weekdays": [1, 2, 3, 4, 5, 6, 7]}, user,
                                                     user)
            today = datetime.now(ZoneInfo(zone)).date()
            window = [today + timedelta(days=i) for i in range(5)]
            assert [r["date"] for r in pattern["last_results"]] == [d.isoformat() for d in window]
            assert {r["status"] for r in pattern["last_results"]} == {"booked"}

            time.sleep(6)  # a tick of the job with the real clock: before midnight nothing more
            assert [d for d, _ in _occurrences(db_url, pattern["id"])] == window

            stack.processes.pop("booking").stop()
            env = {"RELEASE_CLOCK_SKEW_SECONDS": str(skew)}  # the job clock is past the office's midnight
            stack.launch("booking", env=env)
            stack.launch("booking", key="booking2", env=env)
            stack.wait_ready()
            new_day = today + timedelta(days=5)
            wait_for(lambda: len(_occurrences(db_url, pattern["id"])) == 6, timeout=30, interval=0.2,
                     what="the date that entered the window")
            stack.processes.pop("booking2").stop()
            stack.launch("booking", key="booking3", env=env)
            stack.wait_ready()
            time.sleep(11)  # two ticks of both processes

            occurrences = _occurrences(db_url, pattern["id"])
            assert [d for d, _ in occurrences] == [*window, new_day]
            assert {s for _, s in occurrences} == {"booked"}
            bookings = _bookings(db_url, user)
            assert [d for d, _, _ in bookings] == [*window, new_day]  # one booking per date, none twice
            assert {(s, by) for _, s, by in bookings} == {("active", "recurring")}
            assert counter_drift(db_url) == []
        finally:
            stack.stop()


def _known(db_url: str, office: str) -> bool:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT 1 FROM booking.offices WHERE id = %s", (office,)).fetchone() is not None
