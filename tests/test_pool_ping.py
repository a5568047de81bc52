"""The connection pool's check of idle connections (obcommon.db.ping_when_idle), against the real
PostgreSQL: a connection PostgreSQL dropped while it sat idle in the pool is replaced at checkout,
so the next transaction succeeds; a connection reused at once is not checked (no round trip)."""
import time

import psycopg
from sqlalchemy import text

from obcommon.db import PING_AFTER_IDLE_SECONDS, make_engine


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_dropped_while_idle_is_replaced_at_checkout(database_server):
    engine = make_engine(database_server, "pool-ping-test", pool_size=1)
    try:
        first = backend_pid(engine)
        with psycopg.connect(database_server, autocommit=True) as admin:  # as a restart or an idle timeout would
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
        second = backend_pid(engine)  # no error: the dead connection was found and replaced
        assert second != first
    finally:
        engine.dispose()


def test_a_connection_reused_at_once_is_not_pinged(database_server):
    engine = make_engine(database_server, "pool-ping-test", pool_size=1)
    pings = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or real_ping(dbapi_connection)
    try:
        pids = {backend_pid(engine) for _ in range(20)}
        assert len(pids) == 1 and pings == []
    finally:
        engine.dispose()
