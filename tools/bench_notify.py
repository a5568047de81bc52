"""Notify's storing of mails alone: CPU per mail stored (`repository.store`, one event's mail at
a time, with a calendar attachment) and per mail marked sent (`repository.record_sent`),
against PostgreSQL, no broker or SMTP server.

    .venv/bin/python -m tools.bench_notify [N]

Uses DATABASE_URL or the test fixtures' server (tests.support.infra), in a fresh database.
"""
from __future__ import annotations

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SECRET_KEY", "bench-" + "k" * 32)

from services.notify import repository, rules  # noqa: E402
from tools.benchlib import service_db  # noqa: E402

ATTACHMENTS = [{"filename": "invite.ics", "content_type": "text/calendar",
                "content": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"}]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with service_db("notify") as db:
        for phase in ("warm-up", "measured"):
            cpu = time.process_time()
            for i in range(n):
                repository.store(db, [rules.Mail(f"{phase}-{i}", "u@my-company.example", "Your booking",
                                                 "Body " * 50, "booking_created", ATTACHMENTS)])
            stored = time.process_time() - cpu
            due = repository.claim_due(db, timedelta(seconds=60), limit=n)
            cpu = time.process_time()
            for mail in due:
                repository.record_sent(db, mail["id"])
            sent = time.process_time() - cpu
            assert len(due) == n, len(due)
    print(f"{n} mails: stored {1000 * stored / n:.2f} ms of CPU each, marked sent {1000 * sent / n:.2f} ms each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
