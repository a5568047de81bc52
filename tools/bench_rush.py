"""The morning rush's other figures (issue 16), against the real stack, in one run:

1. cold start: from nothing running to every process ready (each service's migrations, five
   services and the gateway as `./ob run` starts them: one process each), split into migrations
   and processes;
2. idle footprint: resident memory (RSS, and PSS where the kernel gives it: shared pages counted
   once) of each of our processes after 10 s idle, and RabbitMQ's and PostgreSQL's apart;
3. window opening: `--users` people (default 2,000) book the newly opened day (the last day of the
   bookable window) of one office with `--capacity` places (default 500), all at the same moment
   (every connection opened first, then every request written at once): how long until every one
   is answered, the outcomes, the bookings in the database, and how long until audit, mail and the
   read models caught up.

    ./ob bench rush [--users 2000] [--capacity 500] [--gateway-replicas 1] [--booking-replicas 1]

Targets (issue 16): idle RSS of the whole stack <= 600 MB; cold start to ready <= 15 s; window
opening: all answered within 15 s, exactly `capacity` bookings.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from obcommon.config import default_gateway_processes  # noqa: E402
from obcommon.migrate import upgrade  # noqa: E402
from obcommon.procs import SERVICES  # noqa: E402
from tests.support.infra import amqp_server_uri, database_server_url, fresh_database, fresh_vhost  # noqa: E402
from tests.support.load import fire  # noqa: E402
from tests.support.stack import Stack  # noqa: E402
from tools.benchlib import CpuMeter, lag_after_load, percentile_ms, pids_named, stack_pids  # noqa: E402

WINDOW_OFFICE = "window"


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MB; PSS is 0 when smaps_rollup is not readable."""
    rss = pss = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--capacity", type=int, default=500)
    parser.add_argument("--gateway-replicas", type=int, default=1)
    parser.add_argument("--gateway-processes", type=int, default=default_gateway_processes(),
                        help="GATEWAY_PROCESSES of each gateway replica (default: as ./ob run)")
    parser.add_argument("--booking-replicas", type=int, default=1)
    parser.add_argument("--booking-workers", type=int, default=None, help="MAX_WORKERS of booking (default 10)")
    args = parser.parse_args()
    # every one of the window's users holds a connection at once
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.users * 2 + 1024)), hard))
    config = {"offices": [{"id": WINDOW_OFFICE, "name": "Window", "quota": args.capacity, "parking_quota": 0}],
              "advance_booking_days": 14, "default_weekly_quota": 5}
    with fresh_vhost(amqp_server_uri()) as amqp, fresh_database(database_server_url()) as db:
        stack = Stack(amqp, db, config=config, extra_env={"GATEWAY_PROCESSES": str(args.gateway_processes)})
        try:
            stack.smtp.start()
            t0 = time.monotonic()
            upgrade(stack.database_url)
            migrated = time.monotonic() - t0
            workers = {"MAX_WORKERS": str(args.booking_workers)} if args.booking_workers else None
            for name in SERVICES:
                stack.launch(name, env=workers if name == "booking" else None)
            stack.launch("gateway")
            stack.wait_ready(120)
            cold = time.monotonic() - t0
            for i in range(args.gateway_replicas - 1):
                stack.launch("gateway", key=f"gateway{i + 2}", port=stack.processes["gateway"].http_port)
            for i in range(args.booking_replicas - 1):
                stack.launch("booking", key=f"booking{i + 2}", env=workers)
            stack.wait_ready(120)
            time.sleep(10)
            memory = {key: memory_mb(pid) for key, pid in stack_pids(stack).items()}  # the gateway's workers too
            infra = {"rabbitmq": [memory_mb(p) for p in pids_named("beam.smp")],
                     "postgresql": [memory_mb(p) for p in pids_named("postgres")]}

            token = stack.login("admin@my-company.example")["token"]
            auth = {"Authorization": f"Bearer {token}"}
            slots = requests.get(stack.url(f"/api/offices/{WINDOW_OFFICE}"), headers=auth, timeout=30).json()["slots"]
            day = max(date.fromisoformat(s["date"]) for s in slots)  # the newly opened day
            tag = uuid.uuid4().hex[:6]
            bodies = [{"user": f"rush-{tag}-{i}@my-company.example", "office": WINDOW_OFFICE,
                       "date": day.isoformat()} for i in range(args.users)]
            timings: list[float] = []
            meter = CpuMeter(stack_pids(stack)).start()
            started = time.monotonic()
            results = fire(stack.url("/api/bookings"), bodies, auth, timings=timings, timeout=120)
            wall = time.monotonic() - started
            outcomes = Counter(r[0] if not isinstance(r, BaseException) else type(r).__name__ for r in results)
            lag = lag_after_load(stack.database_url, stack.gateway_url, auth, [WINDOW_OFFICE])
            cpu = meter.stop()
            import psycopg

            with psycopg.connect(stack.database_url, autocommit=True) as conn:
                booked = conn.execute("SELECT count(*) FROM booking.bookings WHERE office = %s AND date = %s "
                                      "AND status = 'active'", (WINDOW_OFFICE, day)).fetchone()[0]
        finally:
            stack.stop()

    ours_rss = sum(m[0] for m in memory.values())
    ours_pss = sum(m[1] for m in memory.values())
    print(f"\ncold start to ready: {cold:.1f} s (migrations {migrated:.1f} s, then five services and the gateway "
          f"{cold - migrated:.1f} s)   [target: <= 15 s]")
    print("idle memory after 10 s (MB): " + ", ".join(f"{k} {rss:.0f} RSS/{pss:.0f} PSS"
                                                     for k, (rss, pss) in memory.items()))
    print(f"  ours: {ours_rss:.0f} MB RSS, {ours_pss:.0f} MB PSS   [target: whole stack <= 600 MB]; "
          + "; ".join(f"{name} {sum(m[0] for m in ms):.0f} MB RSS/{sum(m[1] for m in ms):.0f} MB PSS "
                      f"({len(ms)} process(es), the machine's shared server)" for name, ms in infra.items()))
    slowest = percentile_ms(timings, 1.0) / 1000 if timings else float("nan")
    print(f"window opening: {args.users} simultaneous requests for {day} in an office of {args.capacity} places: "
          f"{dict(outcomes)}; all answered within {slowest:.1f} s of the common start (p50 "
          f"{percentile_ms(timings, 0.5):.0f} ms, p99 {percentile_ms(timings, 0.99):.0f} ms; {wall:.1f} s with the "
          f"connections' set-up); {booked} bookings in the database; consumers caught up "
          f"{'not within 120 s' if lag is None else f'{lag:.1f} s'} later   [target: all within 15 s, exactly "
          f"{args.capacity}]")
    per_second = Counter(int(t) for t in timings)
    print("  answers per second from the common start: "
          + " ".join(str(per_second.get(i, 0)) for i in range(int(max(timings, default=0)) + 1)))
    print(f"  CPU seconds during it, until the consumers caught up ({meter.seconds:.1f} s): "
          + ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])))
    print(json.dumps({"cold_start_s": cold, "migrations_s": migrated, "memory_mb": memory, "infra_mb": infra,
                      "window": {"cpu_s": cpu, "outcomes": outcomes, "slowest_s": slowest, "booked": booked, "lag_s": lag,
                                 "p50_ms": percentile_ms(timings, 0.5), "p99_ms": percentile_ms(timings, 0.99)}},
                     default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
