"""The outbox relay alone: CPU per pass and per event, against the real database and broker.

    .venv/bin/python -m tools.bench_relay [PASSES]

Each pass finds what one accepted booking leaves in the outbox (one row) and publishes it, as the
relay does after every commit that emitted; then passes of 50 rows (a burst), and empty passes
(the relay's wake-up when another process took the rows). Prints wall and CPU milliseconds per
pass. Uses DATABASE_URL / AMQP_URI or the test fixtures' servers, in a fresh database and vhost.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from obcommon.outbox import OutboxRelay  # noqa: E402
from services.booking.models import OutboxMessage  # noqa: E402
from tests.support.infra import amqp_server_uri, fresh_vhost  # noqa: E402
from tools.benchlib import service_db  # noqa: E402

INSERT = text("INSERT INTO booking.outbox (exchange, routing_key, payload, headers, created_at)"
              " SELECT 'booking.events', 'booking_created', CAST(:payload AS jsonb), NULL, now()"
              " FROM generate_series(1, :n)")
PAYLOAD = '{"booking": {"id": "b", "user": "u@my-company.example", "office": "o", "date": "2026-12-08"}}'


def main() -> int:
    passes = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with service_db("booking") as db, fresh_vhost(amqp_server_uri()) as amqp:
        relay = OutboxRelay(db.session_factory, OutboxMessage, amqp, "booking")
        try:
            for rows, count in ((1, passes), (50, max(passes // 10, 10)), (0, passes)):
                published = 0
                wall, cpu = 0.0, 0.0
                for _ in range(count):
                    if rows:
                        with db.session_factory() as session:
                            session.execute(INSERT, {"payload": PAYLOAD, "n": rows})
                            session.commit()
                    t, c = time.perf_counter(), time.process_time()
                    published += relay.publish_pending()
                    wall += time.perf_counter() - t
                    cpu += time.process_time() - c
                assert published == rows * count, (published, rows, count)
                print(f"{count} passes of {rows} row(s): {1000 * wall / count:.2f} ms each, "
                      f"{1000 * cpu / count:.2f} ms of this process's CPU each")
        finally:
            relay.publisher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
