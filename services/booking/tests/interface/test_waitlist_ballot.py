"""The waitlist (SPEC §12) and the ballot (SPEC §13) against the real services, broker and
database: a freed place is promoted in the transaction that frees it (cancel, release, a raised
day), in order, skipping ineligible entries; and a draw runs exactly once with two booking
processes and a restart, its audit record replays with tools/replay_ballot.py, the losers queue
in draw order and everyone is emailed."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from obcommon.messaging import wait_for
from services.booking.exceptions import AlreadyWaitlisted, OfficeFull, PlacesAvailable, WaitlistEntryNotFound
from tests.support.admin import counter_drift, zone_and_time_soon
from tests.support.infra import fresh_database, fresh_vhost
from tests.support.stack import REPO, Stack

ADMIN = {"email": "admin@my-company.example", "system_admin": True, "offices": []}


def _user(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:6]}@my-company.example"


def _own(user: str) -> dict:
    return {"email": user, "system_admin": False, "offices": []}


def _day(days: int, zone: str = "Europe/London") -> str:
    return (datetime.now(ZoneInfo(zone)).date() + timedelta(days=days)).isoformat()


def _new_office(rpc, db_url: str, **fields) -> str:
    office = f"wl-{uuid.uuid4().hex[:6]}"
    rpc.offices.create_office({"id": office, "name": f"Office {office}", "quota": 1, "parking_quota": 1, **fields},
                              ADMIN["email"])
    wait_for(lambda: _known(db_url, office), timeout=15, interval=0.1, what="booking's copy of the office")
    return office


def _known(db_url: str, office: str) -> bool:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT 1 FROM booking.offices WHERE id = %s", (office,)).fetchone() is not None


def _audit_actions(db_url: str, office: str) -> list[str]:
    with psycopg.connect(db_url) as conn:
        return [a for (a,) in conn.execute("SELECT action FROM audit.records WHERE office = %s ORDER BY at", (office,))]


def test_a_freed_place_goes_to_the_first_eligible_entry_in_the_same_transaction(database_server, amqp_server,
                                                                                    tmp_path):
    # a stack of its own: the shared one's office list is asserted elsewhere
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path)
        try:
            stack.start()
            _freed_place_goes_to_the_first_eligible_entry(stack)
        finally:
            stack.stop()


def _freed_place_goes_to_the_first_eligible_entry(stack):
    db_url = stack.database_url
    day = _day(3)
    holder, first, second, third = (_user(t) for t in ("holder", "first", "second", "third"))
    with stack.rpc() as rpc:
        office = _new_office(rpc, db_url)
        held = rpc.booking.create_booking({"user": holder, "office": office, "date": day, "parking": False}, holder)
        with pytest.raises(OfficeFull):
            rpc.booking.create_booking({"user": first, "office": office, "date": day}, first)
        joined = [rpc.booking.join_waitlist({"user": u, "office": office, "date": day, "parking": False}, u)
                  for u in (first, second, third)]
        assert [e["position"] for e in joined] == [1, 2, 3]
        assert set(joined[0]) >= {"id", "user", "office", "date", "parking", "position", "created_at"}
        with pytest.raises(AlreadyWaitlisted):
            rpc.booking.join_waitlist({"user": first, "office": office, "date": day}, first)
        with pytest.raises(PlacesAvailable):  # another day has room
            rpc.booking.join_waitlist({"user": first, "office": office, "date": _day(4)}, first)
        # `first` books elsewhere that week up to their quota (3 in the test config): no longer eligible
        rpc.booking.create_booking({"user": first, "office": "alpha", "date": day}, first)
        other_days = [d for d in (_day(i) for i in range(0, 14)) if d != day and
                      datetime.fromisoformat(d).isocalendar()[:2] == datetime.fromisoformat(day).isocalendar()[:2]]
        for d in other_days[:2]:
            rpc.booking.create_booking({"user": first, "office": "alpha", "date": d}, first)

        rpc.booking.cancel_booking(held["id"], _own(holder))  # the place frees: `second` gets it
        mine = rpc.booking.list_bookings(user=second, office=office)
        assert [(b["status"], b["created_by"]) for b in mine] == [("active", "waitlist")]
        queue = rpc.booking.list_waitlist(office=office, date=day)
        assert [(e["user"], e["position"]) for e in queue] == [(first, 1), (third, 2)]  # first keeps their place
        assert rpc.booking.list_waitlist(user=third) == [queue[1]]

        rpc.booking.leave_waitlist(joined[2]["id"], _own(third))
        with pytest.raises(WaitlistEntryNotFound):
            rpc.booking.leave_waitlist(joined[2]["id"], _own(third))
        # a raised day promotes, but only the eligible: `first` is still at their quota
        rpc.booking.set_day(office, day, {"quota": 2}, ADMIN["email"])
        assert [e["user"] for e in rpc.booking.list_waitlist(office=office, date=day)] == [first]
    assert [row for row in counter_drift(db_url) if row[0] == office] == []  # (the shared stack has other tests' rows)
    wait_for(lambda: any(m["Subject"].startswith("You have a place") for m in stack.smtp.to(second)),
             timeout=20, interval=0.1, what="the promotion mail")
    wait_for(lambda: {"waitlist_joined", "waitlist_promoted", "waitlist_left"} <= set(_audit_actions(db_url, office)),
             timeout=20, interval=0.1, what="the waitlist's audit records")



def _draws(db_url: str, office: str, day: str) -> list:
    """The day's draws (the days before it, whose draw time has passed, are drawn empty at once)."""
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT date, seed, requests, winners FROM booking.ballot_draws WHERE office = %s"
                            " AND date = %s", (office, day)).fetchall()


def _drawn_records(db_url: str, office: str) -> list[dict]:
    with psycopg.connect(db_url) as conn:
        return [r for (r,) in conn.execute("SELECT after FROM audit.records WHERE action = 'ballot_drawn'"
                                           " AND office = %s", (office,))]


def test_a_draw_runs_once_across_two_processes_and_a_restart_and_replays(database_server, amqp_server, tmp_path):
    skew = {"RELEASE_CLOCK_SKEW_SECONDS": "900"}  # the job clock 15 minutes ahead: the draw time has come
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path, config={"default_weekly_quota": 5})
        try:
            stack.start()
            zone, draw_time = zone_and_time_soon()
            day = _day(3, zone)  # drawn 3 days before at draw_time: today, in 5 minutes
            users = [_user(f"req{i}") for i in range(6)]
            with stack.rpc() as rpc:
                office = _new_office(rpc, db_url, quota=2, parking_quota=1, timezone=zone, allocation="ballot",
                                     ballot_draw_days_before=3, ballot_draw_time=draw_time)
                # history: users 4 and 5 came in on two days of the last 28 (inserted: the past cannot be booked)
                with psycopg.connect(db_url, autocommit=True) as conn:
                    for u in users[4:]:
                        for back in (2, 3):
                            conn.execute("INSERT INTO booking.bookings (id, \"user\", office, date, parking, status,"
                                         " created_at, created_by) VALUES (%s, %s, 'alpha', %s, false, 'active',"
                                         " now(), %s)", (uuid.uuid4().hex, u, _day(-back, zone), u))
                requests = [rpc.booking.create_booking({"user": u, "office": office, "date": day,
                                                        "parking": i == 1}, u) for i, u in enumerate(users)]
                assert {r["status"] for r in requests} == {"requested"}
                # a request can be cancelled like a booking, and changes no counter
                rpc.booking.cancel_booking(requests[3]["id"], _own(users[3]))
            time.sleep(6)  # the job runs every 5 s with the real clock: nothing is drawn before the time
            assert _draws(db_url, office, day) == []

            stack.processes.pop("booking").stop()
            stack.launch("booking", env=skew)
            stack.launch("booking", key="booking2", env=skew)
            stack.wait_ready()
            wait_for(lambda: _draws(db_url, office, day), timeout=30, interval=0.2, what="the draw")
            wait_for(lambda: _drawn_records(db_url, office), timeout=30, interval=0.2, what="its audit record")
            stack.processes.pop("booking2").stop()  # a restart changes nothing more
            stack.launch("booking", key="booking3", env=skew)
            stack.wait_ready()
            time.sleep(11)  # two ticks of both processes

            draws = _draws(db_url, office, day)
            assert len(draws) == 1 and draws[0][2:] == (5, 2)
            records = _drawn_records(db_url, office)
            assert len(records) == 1
            record = records[0]
            assert record["seed"] == draws[0][1] and record["places"] == 2 and len(record["order"]) == 5
            # those who came least go first: users 4 and 5 (two office days each) are last in the order
            by_user = {r["id"]: u for r, u in zip(requests, users, strict=True)}
            assert {by_user[i] for i in record["order"][-2:]} == set(users[4:])
            # the outside script recomputes it exactly
            path = tmp_path / "draw.json"
            path.write_text(json.dumps({"action": "ballot_drawn", "after": record}))
            replayed = subprocess.run([sys.executable, str(REPO / "tools" / "replay_ballot.py"), str(path)],
                                      capture_output=True, text=True, timeout=30)
            assert replayed.returncode == 0 and "replays exactly" in replayed.stdout, replayed.stdout + replayed.stderr

            with stack.rpc() as rpc:
                statuses = {b["id"]: b["status"] for b in rpc.booking.list_bookings(office=office,
                                                                                    include_cancelled=True)}
                winners = [i for i, outcome in record["outcome"].items() if outcome == "won"]
                assert sorted(i for i, s in statuses.items() if s == "active") == sorted(winners)
                assert sorted(i for i, s in statuses.items() if s == "waitlisted") == sorted(
                    i for i, o in record["outcome"].items() if o == "waitlisted")
                queue = rpc.booking.list_waitlist(office=office, date=day)
                losers = [i for i in record["order"] if record["outcome"][i] == "waitlisted"]
                assert [e["user"] for e in queue] == [by_user[i] for i in losers]  # in draw order
                assert [e["position"] for e in queue] == [1, 2, 3]
                # from the draw on, the day is first come, first served: full
                with pytest.raises(OfficeFull):
                    late = _user("late")
                    rpc.booking.create_booking({"user": late, "office": office, "date": day}, late)
            assert counter_drift(db_url) == []
            for i, u in enumerate(users):
                if i == 3:
                    continue
                wait_for(lambda u=u: [m for m in stack.smtp.to(u) if m["Subject"].startswith("Ballot result")],
                         timeout=30, interval=0.2,
                         what=f"the result mail to {u} (has {[m['Subject'] for m in stack.smtp.to(u)]})")
                results = [m for m in stack.smtp.to(u) if m["Subject"].startswith("Ballot result")]
                assert len(results) == 1
                won = requests[i]["id"] in winners
                assert ("you have a place" in results[0]["Subject"]) == won
        finally:
            stack.stop()


def _entries(db_url: str, office: str) -> dict[str, str]:
    with psycopg.connect(db_url) as conn:
        return dict(conn.execute("SELECT id, status FROM booking.waitlist WHERE office = %s", (office,)).fetchall())


def test_entries_expire_at_the_deadline_once_across_two_processes_and_a_restart(database_server, amqp_server,
                                                                                 tmp_path):
    """SPEC §12: the waitlist of a day closes at its check-in deadline: each waiting entry expires
    exactly once (one status change, one audit record, one mail), with two booking processes running
    the job and one restarted; never before the deadline."""
    skew = {"RELEASE_CLOCK_SKEW_SECONDS": "900"}
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path, config={"default_weekly_quota": 5})
        try:
            stack.start()
            zone, deadline = zone_and_time_soon()
            today = datetime.now(ZoneInfo(zone)).date().isoformat()
            waiters = [_user(f"w{i}") for i in range(3)]
            with stack.rpc() as rpc:
                office = _new_office(rpc, db_url, quota=1, parking_quota=0, timezone=zone, check_in_deadline=deadline)
                holder = _user("holder")
                rpc.booking.create_booking({"user": holder, "office": office, "date": today}, holder)
                entries = [rpc.booking.join_waitlist({"user": u, "office": office, "date": today}, u) for u in waiters]
                rpc.booking.leave_waitlist(entries[2]["id"], _own(waiters[2]))  # left: never expires
            time.sleep(6)  # a tick of the job with the real clock: nothing expires before the deadline
            assert set(_entries(db_url, office).values()) == {"waiting", "left"}

            stack.processes.pop("booking").stop()
            stack.launch("booking", env=skew)
            stack.launch("booking", key="booking2", env=skew)
            stack.wait_ready()
            wait_for(lambda: list(_entries(db_url, office).values()).count("expired") == 2, timeout=30,
                     interval=0.2, what="the entries expired")
            stack.processes.pop("booking2").stop()
            stack.launch("booking", key="booking3", env=skew)
            stack.wait_ready()
            time.sleep(11)  # two ticks of both processes

            statuses = _entries(db_url, office)
            assert statuses == {entries[0]["id"]: "expired", entries[1]["id"]: "expired", entries[2]["id"]: "left"}
            with psycopg.connect(db_url) as conn:
                expired = conn.execute("SELECT entity_id FROM audit.records WHERE action = 'waitlist_expired'"
                                       " AND office = %s ORDER BY entity_id", (office,)).fetchall()
            assert sorted(e for (e,) in expired) == sorted(e["id"] for e in entries[:2])  # one record each
            for u in waiters[:2]:
                wait_for(lambda u=u: [m for m in stack.smtp.to(u) if m["Subject"].startswith("Waitlist closed")],
                         timeout=30, interval=0.2, what=f"the expiry mail to {u}")
                assert len([m for m in stack.smtp.to(u) if m["Subject"].startswith("Waitlist closed")]) == 1
            assert not [m for m in stack.smtp.to(waiters[2]) if m["Subject"].startswith("Waitlist closed")]
        finally:
            stack.stop()
