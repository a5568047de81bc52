"""Benchmark: gateway -> service RPC round trip under load, next to bare Flask, in one run.

    ./ob bench                      # or: .venv/bin/python -m tools.bench_rpc --seconds 10

Starts the real stack (five services + gateway, private vhost and database), signs in, and drives
`GET /api/offices` (session from the gateway's read model, one RPC to offices, one query) with
wrk at 20 connections; then the same wrk against a bare Flask app (gunicorn, 2 sync workers,
14-slot JSON), as in PLATFORM-NOTES.md. Prints requests/s, p50 and p99 for both.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.infra import amqp_server_uri, database_server_url, free_port, fresh_database, fresh_vhost  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

BARE_APP = textwrap.dedent("""
    from flask import Flask, jsonify
    app = Flask(__name__)
    SLOTS = [{"date": f"2030-01-{d:02d}", "booked": d, "booked_parking": d // 2} for d in range(1, 15)]
    @app.get("/slots")
    def slots():
        return jsonify({"id": "alpha", "slots": SLOTS})
""")


def wrk(url: str, connections: int, seconds: int, headers: dict | None = None) -> dict:
    cmd = ["wrk", f"-c{connections}", f"-t{min(connections, 2)}", f"-d{seconds}s", "--latency", url]
    for k, v in (headers or {}).items():
        cmd[1:1] = ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def latency_ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50_ms": latency_ms("50"), "p99_ms": latency_ms("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else None}


def bare_flask(connections: int, seconds: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="ob-bare-"))
    (workdir / "bare.py").write_text(BARE_APP)
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen([gunicorn, "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "bare:app"],
                            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/slots", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return wrk(f"http://127.0.0.1:{port}/slots", connections, seconds)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    with fresh_vhost(amqp_server_uri()) as amqp, fresh_database(database_server_url()) as db:
        stack = Stack(amqp, db)
        try:
            stack.start()
            token = stack.login("bench@my-company.example")["token"]
            url = stack.gateway_url + "/api/offices"
            auth = {"Authorization": f"Bearer {token}"}
            assert requests.get(url, headers=auth, timeout=10).status_code == 200
            wrk(url, args.connections, 2, auth)  # warm-up: proxies, connections, caches
            gateway = wrk(url, args.connections, args.seconds, auth)
        finally:
            stack.stop()
    bare = bare_flask(args.connections, args.seconds)
    print(f"\nwrk -c{args.connections} -d{args.seconds}s on {os.cpu_count()} cores")
    print(f"{'endpoint':58} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for label, r in (("gateway GET /api/offices (1 RPC + 1 query, eventlet)", gateway),
                     ("bare Flask 14-slot JSON (gunicorn, 2 sync workers)", bare)):
        print(f"{label:58} {r['rps']:9.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['non_2xx']:8d}")
    print(f"gateway/bare throughput: {gateway['rps'] / bare['rps']:.0%}")
    print(json.dumps({"gateway": gateway, "bare_flask": bare}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
