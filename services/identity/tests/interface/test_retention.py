"""Identity's retention job against the real database, with the clock injected: expired codes
and sessions and rate-limit hits older than the window are deleted, nothing else."""
from datetime import UTC, datetime, timedelta

import psycopg

from obcommon.config import AppConfig
from obcommon.migrate import upgrade
from obcommon.service import Db
from services.identity.models import Base
from services.identity.repository import purge_expired
from tests.support.infra import fresh_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_purge_deletes_only_what_has_expired(database_server):
    with fresh_database(database_server) as url:
        upgrade(url, ["identity"])
        with psycopg.connect(url, autocommit=True) as conn:
            for name, expires in (("gone", NOW - timedelta(seconds=1)), ("live", NOW + timedelta(minutes=1))):
                conn.execute("INSERT INTO identity.login_codes (email, code_hash, expires_at, wrong_attempts, "
                             "created_at) VALUES (%s, 'h', %s, 0, %s)", (f"{name}@my-company.example", expires, NOW))
                conn.execute("INSERT INTO identity.sessions (id, email, created_at, expires_at) VALUES (%s, %s, %s, %s)",
                             (name, f"{name}@my-company.example", NOW, expires))
            for key, age in (("client:old", 16), ("client:recent", 14)):
                conn.execute("INSERT INTO identity.rate_hits (key, at) VALUES (%s, %s)", (key, NOW - timedelta(minutes=age)))
            for key, hours in (("email:old", 25), ("email:recent", 23)):  # wrong codes: a 24 h window
                conn.execute("INSERT INTO identity.verify_failures (key, at) VALUES (%s, %s)",
                             (key, NOW - timedelta(hours=hours)))
        db = Db.standalone(url, Base, "identity")
        try:
            purged = purge_expired(db, AppConfig(code_request_window_minutes=15, verify_failure_window_hours=24), NOW)
        finally:
            db.dispose()
        assert purged == {"codes": 1, "sessions": 1, "rate_hits": 1, "verify_failures": 1}
        with psycopg.connect(url) as conn:
            assert [r[0] for r in conn.execute("SELECT email FROM identity.login_codes")] == ["live@my-company.example"]
            assert [r[0] for r in conn.execute("SELECT id FROM identity.sessions")] == ["live"]
            assert [r[0] for r in conn.execute("SELECT key FROM identity.rate_hits")] == ["client:recent"]
            assert [r[0] for r in conn.execute("SELECT key FROM identity.verify_failures")] == ["email:recent"]
