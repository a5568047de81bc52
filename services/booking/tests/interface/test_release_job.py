"""The release job at the check-in deadline (SPEC §11), against the real broker and database:
never early; a deadline passed while booking was down is applied when it is back; two booking
processes running the job at once release each no-show exactly once (one status change, one
audit record `booking_released` by `system`, one mail), and the counters equal a recount.

The job's clock is shifted for the restarted processes (RELEASE_CLOCK_SKEW_SECONDS), so a deadline
a few minutes ahead has passed for them without the test waiting for it: the bookings are made
before the deadline in real time, and the first process (real clock) must release nothing."""
from __future__ import annotations

import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from obcommon.messaging import wait_for
from tests.support.admin import counter_drift, zone_and_time_soon
from tests.support.infra import fresh_database, fresh_vhost
from tests.support.stack import Stack

SKEW = {"RELEASE_CLOCK_SKEW_SECONDS": "900"}  # 15 minutes later for the job



def _statuses(db_url: str, office: str) -> dict[str, str]:
    with psycopg.connect(db_url) as conn:
        return dict(conn.execute("SELECT id, status FROM booking.bookings WHERE office = %s", (office,)).fetchall())


def _released_audit(db_url: str, office: str) -> list[tuple[str, str]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT entity_id, actor FROM audit.records WHERE action = 'booking_released'"
                            " AND office = %s ORDER BY entity_id", (office,)).fetchall()


def test_release_at_the_deadline_exactly_once_across_replicas_and_a_restart(database_server, amqp_server, tmp_path):
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path)
        try:
            stack.start()
            zone, deadline = zone_and_time_soon()
            office = f"rel-{uuid.uuid4().hex[:6]}"
            today = datetime.now(ZoneInfo(zone)).date().isoformat()
            with stack.rpc() as rpc:
                rpc.offices.create_office({"id": office, "name": "Release Office", "quota": 10, "parking_quota": 5,
                                           "timezone": zone, "check_in_deadline": deadline}, "admin@my-company.example")
                wait_for(lambda: _office_known(db_url, office, deadline), timeout=15, interval=0.2,
                         what="booking's copy of the office with its deadline")
                users = [f"rel-{i}-{uuid.uuid4().hex[:6]}@my-company.example" for i in range(6)]
                bookings = [rpc.booking.create_booking({"user": u, "office": office, "date": today,
                                                        "parking": i % 2 == 0, "reason": None}, u, None)
                            for i, u in enumerate(users)]
                rpc.booking.check_in(users[0], office, users[0])  # at the door
                rpc.booking.verify_pass(bookings[1]["id"], office, "guard@my-company.example")  # security scan
                rpc.booking.cancel_booking(bookings[2]["id"], {"email": "admin@my-company.example",
                                                               "system_admin": True, "offices": []})
            no_shows = {b["id"] for b in bookings[3:]}

            # never early: the job runs every 5 s with the real clock, before the deadline
            time.sleep(7)
            assert set(_statuses(db_url, office).values()) == {"active", "cancelled"}

            # booking stops before the deadline and comes back (twice) after it: both run the job at once
            stack.processes.pop("booking").stop()
            stack.launch("booking", env=SKEW)
            stack.launch("booking", key="booking2", env=SKEW)
            stack.wait_ready()
            wait_for(lambda: {k for k, v in _statuses(db_url, office).items() if v == "released"} == no_shows,
                     timeout=30, interval=0.2, what="the no-shows released")
            wait_for(lambda: len(_released_audit(db_url, office)) >= len(no_shows), timeout=30, interval=0.2,
                     what="the audit records")
            for user in users[3:]:
                wait_for(lambda u=user: any(m["Subject"].startswith("Place released") for m in stack.smtp.to(u)),
                         timeout=30, interval=0.2, what=f"the release mail to {user}")

            # a restart of one replica while the other keeps running changes nothing more
            stack.processes.pop("booking2").stop()
            stack.launch("booking", key="booking3", env=SKEW)
            stack.wait_ready()
            time.sleep(12)  # several ticks of both processes

            statuses = _statuses(db_url, office)
            assert statuses[bookings[0]["id"]] == statuses[bookings[1]["id"]] == "active"  # checked in: kept
            assert statuses[bookings[2]["id"]] == "cancelled"
            assert {k for k, v in statuses.items() if v == "released"} == no_shows
            audit = _released_audit(db_url, office)
            assert sorted(entity for entity, _ in audit) == sorted(no_shows)  # exactly one record each
            assert {actor for _, actor in audit} == {"system"}
            for user in users[3:]:
                released = [m for m in stack.smtp.to(user) if m["Subject"].startswith("Place released")]
                assert len(released) == 1
                body = stack.smtp.text(released[0])
                assert body.startswith(f"Your place at Release Office on {today} was released: no check-in by"
                                       f" {deadline}")
            for user in users[:3]:
                assert not [m for m in stack.smtp.to(user) if m["Subject"].startswith("Place released")]
            assert counter_drift(db_url) == []
            with psycopg.connect(db_url) as conn:
                booked, parking = conn.execute("SELECT booked, booked_parking FROM booking.day_counts"
                                               " WHERE office = %s", (office,)).fetchone()
            assert (booked, parking) == (2, 1)  # the two checked in (users 0 and 1: parking for 0)
            # the stats say so: 2 checked in, 3 released of the 5 that reached the deadline
            with stack.rpc() as rpc:
                row = next(r for r in rpc.booking.stats(offices=[office], date_from=today, date_to=today))
            assert (row["checked_in"], row["released"]) == (2, 3)
            # the real clock is still before the deadline: the rate is computed with the service's clock
            assert row["no_show_rate"] is None
        finally:
            stack.stop()


def _office_known(db_url: str, office: str, deadline: str) -> bool:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT check_in_deadline FROM booking.offices WHERE id = %s", (office,)).fetchone()
    return row is not None and row[0] == deadline
