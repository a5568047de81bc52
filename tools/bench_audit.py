"""Audit's storing of records alone: CPU and wall time per record stored through the group commit
(`repository.records`, one event at a time, as a lone worker stores it), against PostgreSQL, no
broker.

    .venv/bin/python -m tools.bench_audit [N]

Uses DATABASE_URL or the test fixtures' server (tests.support.infra), in a fresh database.
"""
from __future__ import annotations

import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.audit import repository  # noqa: E402
from tools.benchlib import service_db  # noqa: E402


def pseudonym_of(email: str) -> str:
    return "erased-" + uuid.uuid5(uuid.NAMESPACE_URL, email).hex[:24]


def record(i: int) -> dict:
    return {"event_id": uuid.uuid4().hex, "at": datetime.now(UTC), "service": "booking", "action": "booking_created",
            "actor": "admin@my-company.example", "entity": "booking", "entity_id": uuid.uuid4().hex, "office": "o1",
            "before": None, "after": {"id": uuid.uuid4().hex, "user": f"u{i}@my-company.example",
                                      "office": {"id": "o1", "name": "London"}, "date": "2026-12-10",
                                      "status": "active"}}


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with service_db("audit") as db:
        for _phase in ("warm-up", "measured"):
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(n):
                assert repository.records.submit((db, pseudonym_of, record(i)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{n} records: {1000 * cpu / n:.2f} ms of CPU and {1000 * wall / n:.2f} ms each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
