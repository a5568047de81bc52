"""Benchmark of the booking engine (issue 3), against the real stack, in one run:

1. booking decisions per second (accepted + rejected) and p50/p99 at 50 concurrent clients:
   wrk POSTs /api/bookings as a System Admin on behalf of distinct users, spread over 5 offices
   and the bookable window (offices fill up, so later decisions are rejections);
2. the 1,000-way race for the last 10 places (time to decide all, outcome);
3. GET /api/offices/{id} (office + 14 slots) at 50 connections, next to the bare Flask baseline
   of PLATFORM-NOTES (gunicorn, 2 sync workers, 14-slot JSON), same wrk settings.

    .venv/bin/python -m tools.bench_booking [--seconds 10] [--booking-replicas 2] [--gateway-replicas 1]

Targets (issue 3): >= 500 decisions/s, p99 <= 100 ms, reads >= 60 % of bare Flask.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.load import fire  # noqa: E402
from tools.benchlib import bare_flask, require_wrk, running_stack, wrk  # noqa: E402

OFFICES = [{"id": f"o{i}", "name": f"Office {i}", "quota": 300, "parking_quota": 50} for i in range(5)]
CONFIG = {"offices": OFFICES + [{"id": "race", "name": "Race", "quota": 10, "parking_quota": 0}],
          "default_weekly_quota": 5}

BOOKING_SCRIPT = """
local counter = 0
local dates = {%(dates)s}
local tag = "%(tag)s"
function setup(thread) thread:set("tid", tostring(math.random(1, 1000000000))) end
function init(args) math.randomseed(os.time() + tonumber(tid)) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local user = "bench-" .. tag .. "-" .. tid .. "-" .. counter .. "@my-company.example"
  local office = "o" .. math.random(0, 4)
  local date = dates[math.random(1, #dates)]
  local parking = (math.random(1, 4) == 1) and "true" or "false"
  local body = '{"user":"' .. user .. '","office":"' .. office .. '","date":"' .. date .. '","parking":' .. parking .. '}'
  return wrk.format(nil, "/api/bookings", nil, body)
end
local statuses = {}
response = function(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
done = function(summary, latency, requests) end
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--booking-replicas", type=int, default=2)
    parser.add_argument("--gateway-replicas", type=int, default=1)
    args = parser.parse_args()
    require_wrk()
    today = datetime.now(ZoneInfo("Europe/London")).date()
    dates = ", ".join(f'"{today + timedelta(days=d)}"' for d in range(1, 14))
    extra = {"booking": args.booking_replicas - 1, "gateway": args.gateway_replicas - 1}
    with running_stack(CONFIG, extra) as stack:
        token = stack.login("admin@my-company.example")["token"]
        auth = {"Authorization": f"Bearer {token}"}
        base = stack.gateway_url
        # warm-up, then the measured run of decisions
        wrk(base, args.connections, 2, auth, BOOKING_SCRIPT % {"dates": dates, "tag": "warm"})
        decisions = wrk(base, args.connections, args.seconds, auth,
                        BOOKING_SCRIPT % {"dates": dates, "tag": uuid.uuid4().hex[:6]})
        accepted = requests.get(base + "/api/bookings", headers=auth, timeout=60).json()
        # the 1,000-way race for the last 10 places
        day = (today + timedelta(days=1)).isoformat()
        started = time.perf_counter()
        results = fire(base + "/api/bookings", [{"user": f"racer-{i}-{uuid.uuid4().hex[:4]}@my-company.example",
                                                 "office": "race", "date": day} for i in range(1000)], auth)
        race_seconds = time.perf_counter() - started
        race = Counter(r[0] if not isinstance(r, BaseException) else "connection error" for r in results)
        # reads
        user = stack.client("reader@my-company.example")
        read_auth = {"Authorization": user.headers["Authorization"]}
        wrk(base + "/api/offices/o1", args.connections, 2, read_auth)
        reads = wrk(base + "/api/offices/o1", args.connections, args.seconds, read_auth)
    bare = bare_flask(args.connections, args.seconds)

    print(f"\n{os.cpu_count()} cores; {args.booking_replicas} booking and {args.gateway_replicas} gateway process(es); "
          f"wrk -c{args.connections} -d{args.seconds}s")
    print(f"decisions: {decisions['rps']:.0f}/s (accepted + rejected), p50 {decisions['p50_ms']:.1f} ms, "
          f"p99 {decisions['p99_ms']:.1f} ms, non-2xx {decisions['non_2xx']}, socket errors {decisions['socket_errors']}"
          f"   [targets: >= 500/s, p99 <= 100 ms]")
    print(f"           {len(accepted)} bookings exist after the runs")
    print(f"race: 1000 requests for the last 10 places decided in {race_seconds:.2f} s "
          f"(incl. ~2.5 s to open the connections): {dict(race)}")
    print(f"reads GET /api/offices/o1: {reads['rps']:.0f}/s, p50 {reads['p50_ms']:.1f} ms, p99 {reads['p99_ms']:.1f} ms;"
          f" bare Flask {bare['rps']:.0f}/s, p50 {bare['p50_ms']:.1f} ms: {reads['rps'] / bare['rps']:.0%} of bare"
          f"   [target: >= 60 %]")
    summary = {"decisions": decisions, "race": {"seconds": race_seconds, "outcomes": race}, "reads": reads,
               "bare_flask": bare}
    print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "raw"} if isinstance(v, dict) else v)
                      for k, v in summary.items()}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
