"""Booking's copy of the offices catches up even when its first sync fails.

The case: offices seeded (and announced) its offices before booking's queues existed, and is down
when booking starts, so booking has neither the events nor an answer to its start-up sync. Once
offices is back, booking must have every office within seconds, not at the next hourly-ish tick.
"""
from __future__ import annotations

import psycopg

from obcommon.messaging import wait_for
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
            booking_log = stack.processes["booking"].log_path
            # the start-up sync has asked and given up (offices is down): booking logs it
            wait_for(lambda: "office sync deferred" in booking_log.read_text(errors="replace"), timeout=15,
                     interval=0.2, what="booking's deferred office sync")
            assert office_ids(db_url) == set()

            stack.launch("offices")
            stack.wait_ready()
            wait_for(lambda: office_ids(db_url) == {"alpha", "beta"}, timeout=CATCH_UP_SECONDS, interval=0.5,
                     what="booking's copy of the offices")
        finally:
            stack.stop()
