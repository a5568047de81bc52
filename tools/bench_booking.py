"""Benchmark of the booking engine, against the real stack, in one run (issue 16's figures):

1. the anchor: a trivial nameko RPC (no database, no events) behind an eventlet Flask app that
   calls it through the gateway's pool of proxies (tools/anchor.py), wrk at 50 connections;
2. booking decisions per second (201 booked + 409 rejected by a rule; any other status is
   reported apart and not counted) and p50/p99 at 50 concurrent clients: wrk POSTs
   /api/bookings as a System Admin on behalf of a pool of users, over 5 small offices and the
   bookable window, so offices fill and users reach their weekly quota during the run; as a
   ratio to the anchor, with the CPU seconds each process spent (gateway, each service,
   RabbitMQ, PostgreSQL, the benchmark itself, the machine) per decision, and the consumers'
   lag at the end (outboxes, mail, audit, the gateways' read models);
3. an open loop: a fixed rate of decisions (default 100/s for 30 s) on offices with room, each
   latency measured from its scheduled send time;
4. the 1,000-way race for the last 10 places (outcome; per-request latency from the common start);
5. GET /api/offices/{id} (office + 14 slots) at 50 connections, next to the bare Flask baseline
   of PLATFORM-NOTES (gunicorn, 2 sync workers, 14-slot JSON), same wrk settings.

    ./ob bench booking [--seconds 10] [--booking-replicas 2] [--gateway-replicas 1] [--gateway-processes N]
                       [--open-rate 100] [--open-seconds 30]

The gateway as `./ob run` starts it: one replica of GATEWAY_PROCESSES forked processes (two on a
machine with two cores or more) sharing one port, as the baseline has two gunicorn workers: a
gateway process is one eventlet loop, so it uses one core at most.

Targets (issue 16): decisions >= 0.5 x the anchor with the consumers' lag < 2 s; <= 12 ms of
machine CPU per decision; open loop at 100/s: p99 <= 150 ms, no error; reads >= 1.0 x bare
Flask with p99 <= 2 x bare Flask's.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from obcommon.config import default_gateway_processes  # noqa: E402
from tests.support.load import fire  # noqa: E402
from tools.benchlib import (  # noqa: E402
    CpuMeter,
    anchor,
    bare_flask,
    lag_after_load,
    open_loop,
    percentile_ms,
    require_wrk,
    running_stack,
    stack_pids,
    wrk,
)

# Small enough that offices fill during the run and users meet their weekly quota: the measured
# decisions are a real mix of bookings (201) and rule rejections (409).
OFFICES = [{"id": f"o{i}", "name": f"Office {i}", "quota": 5, "parking_quota": 1} for i in range(5)]
# The open loop's offices have room for the whole run: its decisions are mostly bookings (201),
# the expensive kind (outbox, audit record, confirmation mail, read models), and weekly quotas.
BIG = [{"id": f"big{i}", "name": f"Big {i}", "quota": 5000, "parking_quota": 0} for i in range(2)]
CONFIG = {"offices": OFFICES + BIG + [{"id": "race", "name": "Race", "quota": 10, "parking_quota": 0}],
          "default_weekly_quota": 3}
USERS = 3000  # the pool the load books for (duplicates and weekly quotas come from reusing them)

# wrk script: random user / office / day / parking per request; every thread counts statuses and
# done() prints the totals as "status NNN count" lines (read by tools.benchlib.wrk).
BOOKING_SCRIPT = """
local threads = {}
local dates = {%(dates)s}
local tag = "%(tag)s"
function setup(thread)
  thread:set("tid", tostring(#threads + 1))
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 1000 + tonumber(tid))
  statuses = {}
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local user = "bench-" .. tag .. "-" .. math.random(1, %(users)d) .. "@my-company.example"
  local office = "o" .. math.random(0, 4)
  local date = dates[math.random(1, #dates)]
  local parking = (math.random(1, 4) == 1) and "true" or "false"
  local body = '{"user":"' .. user .. '","office":"' .. office .. '","date":"' .. date .. '","parking":' .. parking .. '}'
  return wrk.format(nil, "/api/bookings", nil, body)
end
response = function(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  for status, count in pairs(total) do io.write(string.format("status %%d %%d\\n", status, count)) end
end
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--booking-replicas", type=int, default=2)
    parser.add_argument("--gateway-replicas", type=int, default=1)
    parser.add_argument("--gateway-processes", type=int, default=None,
                        help="GATEWAY_PROCESSES of each gateway replica (default: as ./ob run)")
    parser.add_argument("--open-rate", type=float, default=100.0, help="decisions/s offered in the open loop")
    parser.add_argument("--open-seconds", type=float, default=30.0)
    args = parser.parse_args()
    require_wrk()
    today = datetime.now(ZoneInfo("Europe/London")).date()
    days = [today + timedelta(days=d) for d in range(1, 14)]
    dates = ", ".join(f'"{d}"' for d in days)
    extra = {"booking": args.booking_replicas - 1, "gateway": args.gateway_replicas - 1}
    processes = args.gateway_processes or default_gateway_processes()
    with running_stack(CONFIG, extra, processes) as stack:
        token = stack.login("admin@my-company.example")["token"]
        auth = {"Authorization": f"Bearer {token}"}
        base = stack.gateway_url
        # the anchor: one trivial RPC hop through the gateway's proxy pool, same broker, same wrk
        with anchor(stack.amqp_uri) as ping:
            wrk(ping, args.connections, 2)
            trivial = wrk(ping, args.connections, args.seconds)
        script = {"dates": dates, "users": USERS}
        # warm-up (its own users and offices' places), then the measured run of decisions
        wrk(base, args.connections, 2, auth, BOOKING_SCRIPT % {**script, "tag": "warm"})
        lag_after_load(stack.database_url, base, auth, [o["id"] for o in OFFICES])
        meter = CpuMeter(stack_pids(stack)).start()
        run = wrk(base, args.connections, args.seconds, auth, BOOKING_SCRIPT % {**script, "tag": uuid.uuid4().hex[:6]})
        lag = lag_after_load(stack.database_url, base, auth, [o["id"] for o in OFFICES])
        cpu = meter.stop()  # after the catch-up: the consumers' work for these decisions included
        # the open loop: a fixed rate of decisions on offices with room, whatever the answers take
        local = threading.local()  # a keep-alive connection per client thread
        tag = uuid.uuid4().hex[:6]

        target = urlsplit(base)
        headers = {**auth, "Content-Type": "application/json"}

        def book(i: int) -> int:
            # http.client, not requests: the client shares the machine's two cores with the stack
            # (with the SMTP peer's lazy parsing: the benchmark's CPU per accepted booking 4.5-5.4
            # -> 1.7-2.1 ms, docs/benchmarks.md)
            body = json.dumps({"user": f"open-{tag}-{random.randrange(USERS)}@my-company.example",
                               "office": f"big{i % len(BIG)}", "date": random.choice(days).isoformat(),
                               "parking": False})
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                conn.request("POST", "/api/bookings", body, headers)
                response = conn.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                local.conn = None
                conn.close()
                raise

        open_meter = CpuMeter(stack_pids(stack)).start()
        opened = open_loop(book, args.open_rate, args.open_seconds)
        open_lag = lag_after_load(stack.database_url, base, auth, [o["id"] for o in BIG])
        open_cpu = open_meter.stop()
        # the 1,000-way race for the last 10 places
        day = (today + timedelta(days=1)).isoformat()
        timings: list[float] = []
        results = fire(base + "/api/bookings", [{"user": f"racer-{i}-{uuid.uuid4().hex[:4]}@my-company.example",
                                                 "office": "race", "date": day} for i in range(1000)], auth,
                       timings=timings)
        race = Counter(r[0] if not isinstance(r, BaseException) else "connection error" for r in results)
        # reads
        user = stack.client("reader@my-company.example")
        read_auth = {"Authorization": user.headers["Authorization"]}
        wrk(base + "/api/offices/o1", args.connections, 2, read_auth)
        reads = wrk(base + "/api/offices/o1", args.connections, args.seconds, read_auth)
    bare = bare_flask(args.connections, args.seconds)

    statuses = run["statuses"]
    answered = sum(statuses.values())
    accepted, rejected = statuses.get("201", 0), statuses.get("409", 0)
    others = {k: v for k, v in statuses.items() if k not in ("201", "409")}
    decisions_per_s = run["rps"] * (accepted + rejected) / answered if answered else 0.0
    decided = accepted + rejected
    def secs(v: float | None) -> str:
        return "not within 120 s" if v is None else f"{v:.1f} s"

    print(f"\n{os.cpu_count()} cores; {args.booking_replicas} booking process(es), {args.gateway_replicas} gateway "
          f"replica(s) of {processes} process(es) each; "
          f"wrk -c{args.connections} -d{args.seconds}s")
    print(f"anchor (trivial RPC behind eventlet Flask + the gateway's proxy pool): {trivial['rps']:.0f}/s, "
          f"p50 {trivial['p50_ms']:.1f} ms, p99 {trivial['p99_ms']:.1f} ms")
    print(f"decisions: {decisions_per_s:.0f}/s ({accepted} booked + {rejected} rejected with 409; other statuses "
          f"{others or 'none'}), p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, socket errors "
          f"{run['socket_errors']}; {decisions_per_s / trivial['rps']:.2f} x the anchor   [target: >= 0.5 x]")
    print(f"consumers' lag after the run (outboxes, mail, audit, gateway read models): {secs(lag)}   [target: < 2 s]")
    ok = sum(v for k, v in opened["statuses"].items() if k in ("201", "409"))
    print(f"open loop: {opened['offered_per_s']:.0f} decisions/s offered for {opened['seconds']:.0f} s: "
          f"{opened['statuses']}, p50 {opened['p50_ms']:.0f} ms, p99 {opened['p99_ms']:.0f} ms, max "
          f"{opened['max_ms']:.0f} ms; lag after it {secs(open_lag)}   [target: p99 <= 150 ms, no error]")
    print("CPU per decision, per process, from the load's start until the consumers caught up "
          "(target: <= 12 ms of machine CPU):")
    print(f"  {'':30} {'closed loop (mostly 409)':>26} {'open loop (mostly 201)':>26}")
    for name in sorted(cpu, key=lambda k: (k != "machine", -open_cpu.get(k, 0.0))):
        print(f"  {name:30} {cpu[name]:7.2f} s {cpu[name] * 1000 / max(decided, 1):7.1f} ms/dec."
              f" {open_cpu.get(name, 0.0):7.2f} s {open_cpu.get(name, 0.0) * 1000 / max(ok, 1):7.1f} ms/dec.")
    print(f"race: 1000 simultaneous requests for the last 10 places: {dict(race)}; all decided within "
          f"{percentile_ms(timings, 1.0) / 1000:.2f} s of the common start (p50 {percentile_ms(timings, 0.5):.0f} ms, "
          f"p99 {percentile_ms(timings, 0.99):.0f} ms)")
    print(f"reads GET /api/offices/o1: {reads['rps']:.0f}/s, p50 {reads['p50_ms']:.1f} ms, p99 {reads['p99_ms']:.1f} ms;"
          f" bare Flask {bare['rps']:.0f}/s, p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms: "
          f"{reads['rps'] / bare['rps']:.2f} x bare, p99 {reads['p99_ms'] / bare['p99_ms']:.1f} x bare's"
          f"   [target: >= 1.0 x, p99 <= 2 x]")
    summary = {"anchor": trivial, "decisions": {**run, "decisions_per_s": decisions_per_s, "cpu_s": cpu, "lag_s": lag},
               "open_loop": {**opened, "cpu_s": open_cpu, "lag_s": open_lag},
               "race": {"outcomes": race, "p50_ms": percentile_ms(timings, 0.5), "p99_ms": percentile_ms(timings, 0.99)},
               "reads": reads, "bare_flask": bare}
    print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "raw"} if isinstance(v, dict) else v)
                      for k, v in summary.items()}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
