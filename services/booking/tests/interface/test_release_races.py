"""Check-ins, releases ("I'm not coming" and the release job), cancellations and new bookings race
on one full office-day (SPEC §11 with §4's guarantees): capacity is never exceeded, the counters
equal a recount, a checked-in booking is never released, and no booking is released twice.

Two booking processes serve the calls; the second one's release job runs with its clock past the
day's deadline (RELEASE_CLOCK_SKEW_SECONDS), so it releases no-shows while the race goes on."""
from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from obcommon.messaging import wait_for
from services.booking.exceptions import BookingError
from tests.support.admin import counter_drift, zone_and_time_soon
from tests.support.infra import fresh_database, fresh_vhost
from tests.support.stack import Stack

ADMIN = {"email": "admin@my-company.example", "system_admin": True, "offices": []}
QUOTA, PARKING = 8, 3



def test_check_ins_releases_cancellations_and_bookings_race(database_server, amqp_server, tmp_path):
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path, config={"default_weekly_quota": 5})
        try:
            stack.start()
            zone, deadline = zone_and_time_soon()
            office = f"race-{uuid.uuid4().hex[:6]}"
            today = datetime.now(ZoneInfo(zone)).date().isoformat()
            with stack.rpc() as rpc:
                rpc.offices.create_office({"id": office, "name": "Race Office", "quota": QUOTA,
                                           "parking_quota": PARKING, "timezone": zone,
                                           "check_in_deadline": deadline}, ADMIN["email"])
                wait_for(lambda: _known(db_url, office), timeout=15, interval=0.2, what="the office in booking")
                holders = [f"h{i}-{uuid.uuid4().hex[:6]}@my-company.example" for i in range(QUOTA)]
                held = [rpc.booking.create_booking({"user": u, "office": office, "date": today,
                                                    "parking": i < PARKING, "reason": None}, u, None)
                        for i, u in enumerate(holders)]
            newcomers = [f"n{i}-{uuid.uuid4().hex[:6]}@my-company.example" for i in range(24)]

            def check_in(i):
                return rpc_call(stack, "check_in", holders[i], office, holders[i])

            def release(i):
                return rpc_call(stack, "release_booking", held[i]["id"],
                                {"email": holders[i], "system_admin": False, "offices": []})

            def cancel(i):
                return rpc_call(stack, "cancel_booking", held[i]["id"], ADMIN)

            def book(user):
                return rpc_call(stack, "create_booking", {"user": user, "office": office, "date": today,
                                                          "parking": random.random() < 0.5, "reason": None}, user,
                                None)

            tasks = ([("check_in", i, lambda i=i: check_in(i)) for i in range(0, 3)]
                     + [("release", i, lambda i=i: release(i)) for i in range(2, 5)]
                     + [("cancel", i, lambda i=i: cancel(i)) for i in range(4, 6)]
                     + [("book", u, lambda u=u: book(u)) for u in newcomers])
            random.shuffle(tasks)
            # the second process's job releases the day's no-shows while the calls race
            stack.launch("booking", key="booking2", env={"RELEASE_CLOCK_SKEW_SECONDS": "900"})
            with ThreadPoolExecutor(12) as pool:
                results = list(pool.map(lambda t: t[2](), tasks))
            unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, BookingError)]
            assert not unexpected, unexpected[:3]
            stack.wait_ready()
            # once the job has caught up: every booking still active was checked in
            wait_for(lambda: _active_not_checked_in(db_url, office) == 0, timeout=40, interval=0.3,
                     what="the release job to catch up")

            with psycopg.connect(db_url) as conn:
                rows = conn.execute("SELECT id, status, checked_in_at IS NOT NULL, parking, released_by"
                                    " FROM booking.bookings WHERE office = %s", (office,)).fetchall()
                booked, booked_parking = conn.execute(
                    "SELECT booked, booked_parking FROM booking.day_counts WHERE office = %s", (office,)).fetchone()
                events = conn.execute("SELECT entity_id, count(*) FROM audit.records WHERE office = %s AND"
                                      " action = 'booking_released' GROUP BY entity_id", (office,)).fetchall()
            active = [r for r in rows if r[1] == "active"]
            assert len(active) <= QUOTA and sum(1 for r in active if r[3]) <= PARKING  # never over capacity
            assert (booked, booked_parking) == (len(active), sum(1 for r in active if r[3]))
            assert counter_drift(db_url) == []
            assert all(r[2] for r in active)  # what stays active was checked in
            # the job never releases a checked-in booking (holder 2 both checks in and says "I'm not
            # coming": whichever comes first wins, and their own release after a check-in is theirs)
            assert not [r for r in rows if r[1] == "released" and r[2] and r[4] == "system"]
            released = {r[0] for r in rows if r[1] == "released"}
            wait_for(lambda: len(_released_records(db_url, office)) == len(released), timeout=30, interval=0.3,
                     what="one audit record per release")
            assert all(count == 1 for _, count in events)
            assert set(_released_records(db_url, office)) == released
            # a check-in that found its booking active kept it; one that lost the race to a release
            # (the job, or holder 2's own) was refused with "No booking today at this office"
            status = {r[0]: r[1] for r in rows}
            for (kind, i, _), result in zip(tasks, results, strict=True):
                if kind != "check_in":
                    continue
                if isinstance(result, BaseException):
                    assert result.message == "No booking today at this office"
                    assert status[held[i]["id"]] == "released"
                else:
                    assert result["booking"]["checked_in_at"]
                    # kept active, unless the holder released it themselves afterwards (holder 2)
                    self_released = any(k == "release" and j == i for k, j, _ in tasks)
                    assert status[held[i]["id"]] == "active" or (self_released and status[held[i]["id"]] == "released")
        finally:
            stack.stop()


def rpc_call(stack, method, *args):
    try:
        with stack.rpc(timeout=30) as rpc:
            return getattr(rpc.booking, method)(*args)
    except BookingError as exc:
        return exc


def _known(db_url: str, office: str) -> bool:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT 1 FROM booking.offices WHERE id = %s AND check_in_deadline IS NOT NULL",
                            (office,)).fetchone() is not None


def _active_not_checked_in(db_url: str, office: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM booking.bookings WHERE office = %s AND status = 'active'"
                           " AND checked_in_at IS NULL", (office,)).fetchone()
    assert row is not None
    return int(row[0])


def _released_records(db_url: str, office: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        return [r[0] for r in conn.execute("SELECT entity_id FROM audit.records WHERE office = %s AND"
                                           " action = 'booking_released'", (office,)).fetchall()]
