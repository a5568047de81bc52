"""Benchmark: gateway -> service RPC round trip under load, next to bare Flask, in one run.

    ./ob bench                      # or: .venv/bin/python -m tools.bench_rpc --seconds 10

Starts the real stack (five services + gateway, private vhost and database), signs in, and drives
`GET /api/bookings` (session from the gateway's read model, one RPC to booking, one query) with
wrk at 20 connections; then the same wrk against a bare Flask app (gunicorn, 2 sync workers,
14-slot JSON), as in PLATFORM-NOTES.md. Prints requests/s, p50 and p99 for both.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tools.benchlib import bare_flask, require_wrk, running_stack, wrk  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    require_wrk()
    with running_stack() as stack:
        token = stack.login("bench@my-company.example")["token"]
        url = stack.gateway_url + "/api/bookings"
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.get(url, headers=auth, timeout=10).status_code == 200
        wrk(url, args.connections, 2, auth)  # warm-up: proxies, connections, caches
        gateway = wrk(url, args.connections, args.seconds, auth)
    bare = bare_flask(args.connections, args.seconds)
    print(f"\nwrk -c{args.connections} -d{args.seconds}s on {os.cpu_count()} cores")
    print(f"{'endpoint':58} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for label, r in (("gateway GET /api/bookings (1 RPC + 1 query, eventlet)", gateway),
                     ("bare Flask 14-slot JSON (gunicorn, 2 sync workers)", bare)):
        print(f"{label:58} {r['rps']:9.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['non_2xx']:8d}")
    print(f"gateway/bare throughput: {gateway['rps'] / bare['rps']:.0%}")
    print(json.dumps({"gateway": {k: v for k, v in gateway.items() if k != "raw"},
                      "bare_flask": {k: v for k, v in bare.items() if k != "raw"}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
