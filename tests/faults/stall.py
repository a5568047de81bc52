"""Requests in flight on purpose: a fault that lands while work is under way is the one that hurts."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg


@contextlib.contextmanager
def booking_decisions_held(database_url: str) -> Iterator[None]:
    """Hold a lock that every booking decision and cancellation waits for (they all write
    booking.day_counts), so that, meanwhile, the clients' requests pile up in flight, in the
    gateway and in booking's RPC workers; on leaving, they all finish at once. Reads go on."""
    with psycopg.connect(database_url) as conn:
        conn.execute("LOCK TABLE booking.day_counts IN EXCLUSIVE MODE")
        yield
        conn.rollback()
