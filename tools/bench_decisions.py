"""Booking decisions in one process against PostgreSQL, no broker or gateway: the
statements a create and a cancel send, sequential creates per second, and sequential refusals of a
full day per second (with the CPU each costs this process), through
`services.booking.repository` as the service calls it.

    .venv/bin/python -m tools.bench_decisions [N] [--key]

`--key`: every create carries an Idempotency-Key, as every create through the gateway does.

Uses DATABASE_URL or the test fixtures' server (tests.support.infra), in a fresh database.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 32)  # the idempotency fingerprint key

import psycopg  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from obcommon.config import AppConfig  # noqa: E402
from obcommon.migrate import upgrade  # noqa: E402
from obcommon.service import Db  # noqa: E402
from services.booking import exceptions as errors  # noqa: E402
from services.booking import repository  # noqa: E402
from services.booking.models import Base  # noqa: E402
from tests.support.infra import database_server_url, fresh_database  # noqa: E402
from tools.benchlib import CpuMeter  # noqa: E402

CONFIG = AppConfig(advance_booking_days=14, default_weekly_quota=3)


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--key"]
    n = int(args[0]) if args else 300
    keyed = "--key" in sys.argv[1:]

    def key() -> str | None:
        return uuid.uuid4().hex if keyed else None
    now = datetime.now(UTC)
    tomorrow = now.date() + timedelta(days=1)
    statements: list[str] = []
    with fresh_database(database_server_url(), "ob_bench") as url:
        upgrade(url, ["booking"])
        db = Db.standalone(url, Base, "booking")
        try:
            repository.upsert_office(db, {"id": "full", "name": "Full", "quota": 1, "parking_quota": 0,
                                          "timezone": "Europe/London", "retired": False}, 1)
            for i in range(5):
                repository.upsert_office(db, {"id": f"o{i}", "name": f"O{i}", "quota": 50, "parking_quota": 5,
                                              "timezone": "Europe/London", "retired": False}, 1)
            event.listen(Engine, "before_cursor_execute", lambda *args, **kw: statements.append(args[2]))
            user = "u@my-company.example"
            request = {"user": user, "office": "o0", "date": tomorrow.isoformat(), "parking": True, "reason": None}
            booking, _ = repository.create_booking(db, CONFIG, request, user, key(), now)
            per_create = len(statements)
            statements.clear()
            repository.cancel_booking(db, CONFIG, booking["id"], {"email": user}, now)
            per_cancel = len(statements)
            outcomes: dict[str, int] = {}
            start, cpu, meter = time.perf_counter(), time.process_time(), CpuMeter({}).start()
            for i in range(n):
                who = f"b{i % 200}@my-company.example"
                request = {"user": who, "office": f"o{i % 5}", "date": (tomorrow + timedelta(days=i % 13)).isoformat(),
                           "parking": i % 4 == 0, "reason": None}
                try:
                    repository.create_booking(db, CONFIG, request, who, key(), now)
                    outcome = "201"
                except errors.BookingError as exc:
                    outcome = type(exc).__name__
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            elapsed, creating_cpu = time.perf_counter() - start, time.process_time() - cpu
            creating_pg = meter.stop()["postgresql"]
            # refusals: the one place of "full" taken, then n others ask for it (rule: day full)
            full = {"office": "full", "date": tomorrow.isoformat(), "parking": False, "reason": None}
            repository.create_booking(db, CONFIG, {**full, "user": "first@my-company.example"},
                                      "first@my-company.example", key(), now)
            refusals = {}  # under client keys (each refusal kept) and the gateway's request ids (not kept)
            # with keys, each kind three rounds in a row, the last one's figures printed (the first
            # ones absorb PostgreSQL's after-work of the writes before: autovacuum, checkpoints)
            for kind, keep in [("gateway", False)] * 3 + [("client", True)] * 3 if keyed else [("client", True)]:
                refused: dict[str, int] = {}
                wal = wal_position(url)
                start, cpu, meter = time.perf_counter(), time.process_time(), CpuMeter({}).start()
                for i in range(n):
                    who = f"r{kind}{i}@my-company.example"
                    try:
                        repository.create_booking(db, CONFIG, {**full, "user": who}, who, key(), now, keep)
                        refused["201"] = refused.get("201", 0) + 1
                    except errors.BookingError as exc:
                        refused[type(exc).__name__] = refused.get(type(exc).__name__, 0) + 1
                refusals[kind] = (time.perf_counter() - start, time.process_time() - cpu,
                                  meter.stop()["postgresql"], wal_position(url) - wal, refused)
        finally:
            db.dispose()
    print(f"{'with' if keyed else 'without'} Idempotency-Keys: statements per create {per_create}, per cancel {per_cancel} (commit not counted); {n} sequential "
          f"decisions in {elapsed:.2f} s: {n / elapsed:.0f}/s, {1000 * elapsed / n:.1f} ms each, "
          f"{1000 * creating_cpu / n:.2f} ms of this process's CPU and {1000 * creating_pg / n:.2f} ms of "
          f"PostgreSQL's each; {outcomes}")
    for kind, (refusing, refusing_cpu, refusing_pg, wal_bytes, refused) in refusals.items():
        what = "its answer kept (a client's key)" if kind == "client" else "nothing kept (the gateway's request id)"
        print(f"  {n} sequential refusals of a full day, {what if keyed else 'no key'}: {n / refusing:.0f}/s, "
              f"{1000 * refusing / n:.2f} ms each, {1000 * refusing_cpu / n:.2f} ms of this process's CPU and "
              f"{1000 * refusing_pg / n:.2f} ms of PostgreSQL's (a write's autovacuum may land in the next run) "
              f"and {wal_bytes / n:.0f} bytes of WAL each; {refused}")
    return 0


def wal_position(url: str) -> int:
    """PostgreSQL's current WAL position in bytes (the server's, so other work counts too)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'").fetchone()[0])


if __name__ == "__main__":
    sys.exit(main())
