"""Booking's copy of the offices catches up even when its first sync fails.

The case: offices seeded (and announced) its offices before booking's queues existed, and is down
when booking starts, so booking has neither the events nor an answer to its start-up sync. Once
offices is back, booking must have every office within seconds, not at the next hourly-ish tick.
"""
from __future__ import annotations

import time

import psycopg

from obcommon.migrate import upgrade
from tests.support.infra import fresh_database, fresh_vhost
from tests.support.stack import Stack

CATCH_UP_SECONDS = 20  # retry every 5 s, each try waits at most 5 s for offices


def office_ids(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM booking.offices")}


def test_a_failed_first_sync_is_retried_within_seconds(database_server, amqp_server, tmp_path):
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path)
        try:
            upgrade(db_url)
            stack.launch("offices")
            stack.wait_ready()
            with psycopg.connect(db_url) as conn:  # seeded (its office_created events reached no queue)
                assert conn.execute("SELECT count(*) FROM offices.offices").fetchone()[0] == 2
            stack.processes.pop("offices").stop()

            stack.launch("booking")
            stack.wait_ready()
            time.sleep(7)  # the start-up sync has asked and given up (offices is down)
            assert office_ids(db_url) == set()

            stack.launch("offices")
            stack.wait_ready()
            deadline = time.monotonic() + CATCH_UP_SECONDS
            while office_ids(db_url) != {"alpha", "beta"} and time.monotonic() < deadline:
                time.sleep(0.5)
            assert office_ids(db_url) == {"alpha", "beta"}
        finally:
            stack.stop()
