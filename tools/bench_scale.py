"""Decisions and reads on an empty database and on one holding 50,000 users and 1,000,000
bookings (issue 16's scale target: within 1.2 x the empty figures), against the real stack.

1. the stack starts on a fresh database; a reader gets the same 20 bookings in both phases;
2. measured: booking decisions (wrk closed loop, as `./ob bench booking`, on five small offices),
   `GET /api/bookings` (the reader's own list: booking's database) and `GET /api/offices/{id}`
   (office + slots: the gateway's read model);
3. seeded with SQL (`generate_series`): `--users` users in identity (default 50,000) with
   `--per-user` bookings each (default 20: 1,000,000 in all) spread over ten offices and the 43
   days from 29 days ago (inside the 30-day retention, so the retention job keeps them) to the
   end of the bookable window, with matching day counters; ANALYZE;
4. measured again on five fresh small offices, and the query plans of the hot statements printed.

    .venv/bin/python -m tools.bench_scale [--users 50000] [--per-user 20] [--seconds 10]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.bench_booking import BOOKING_SCRIPT, USERS  # noqa: E402
from tools.benchlib import require_wrk, running_stack, wrk  # noqa: E402

SMALL = [{"id": f"{p}{i}", "name": f"Small {p}{i}", "quota": 5, "parking_quota": 1} for p in "op" for i in range(5)]
SEEDED = [{"id": f"s{i}", "name": f"Seeded {i}", "quota": 5000, "parking_quota": 0} for i in range(10)]
CONFIG = {"offices": SMALL + SEEDED, "default_weekly_quota": 3, "data_retention_days": 30}
READER = "reader@my-company.example"
DAYS = 43  # 29 days ago … 13 days ahead


def seed(database_url: str, users: int, per_user: int, first: int = 1) -> float:
    """Users seed-<first>… with `per_user` bookings each (distinct days per user); returns seconds."""
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO identity.users (email, role, role_offices, auto_approved, created_at, active, scim_id)"
            " SELECT 'seed-' || i || '@my-company.example', 'Default', '{}', false, now(), true, md5('u' || i)"
            " FROM generate_series(%s::int, %s::int) i ON CONFLICT DO NOTHING", (first, first + users - 1))
        conn.execute(
            "INSERT INTO booking.bookings (id, \"user\", office, date, parking, status, created_at, created_by, sequence)"
            " SELECT md5('b' || i || '-' || j), 'seed-' || i || '@my-company.example', 's' || ((i + j) %% 10),"
            " current_date - 29 + ((i * 7 + j * 2) %% %s), false, 'active', now(), 'seed-' || i || '@my-company.example', 0"
            " FROM generate_series(%s::int, %s::int) i, generate_series(0, %s - 1) j",
            (DAYS, first, first + users - 1, per_user))
        conn.execute(
            "INSERT INTO booking.day_counts (office, date, booked, booked_parking, version)"
            " SELECT office, date, count(*), 0, count(*) FROM booking.bookings WHERE office LIKE 's%%'"
            " AND status = 'active' GROUP BY office, date"
            " ON CONFLICT (office, date) DO UPDATE SET booked = excluded.booked, version = excluded.version")
        conn.execute("ANALYZE")
    return time.monotonic() - started


def measure(stack, auth: dict, reader: dict, prefix: str, seconds: int, dates: str) -> dict:
    base = stack.gateway_url
    script = BOOKING_SCRIPT.replace('local office = "o"', f'local office = "{prefix}"')
    wrk(base, 50, 2, auth, script % {"dates": dates, "users": USERS, "tag": uuid.uuid4().hex[:6]})
    run = wrk(base, 50, seconds, auth, script % {"dates": dates, "users": USERS, "tag": uuid.uuid4().hex[:6]})
    decided = run["statuses"].get("201", 0) + run["statuses"].get("409", 0)
    answered = sum(run["statuses"].values())
    wrk(base + "/api/bookings", 50, 2, reader)
    mine = wrk(base + "/api/bookings", 50, seconds, reader)
    wrk(base + "/api/offices/s1", 50, 2, reader)
    office = wrk(base + "/api/offices/s1", 50, seconds, reader)
    return {"decisions_per_s": run["rps"] * decided / answered if answered else 0.0, "decisions_p99_ms": run["p99_ms"],
            "statuses": run["statuses"], "my_bookings_per_s": mine["rps"], "my_bookings_p99_ms": mine["p99_ms"],
            "office_per_s": office["rps"], "office_p99_ms": office["p99_ms"]}


def plans(database_url: str, user: str) -> dict[str, list[str]]:
    """EXPLAIN ANALYZE of the statements the measured requests run most, for a seeded user."""
    today = datetime.now(ZoneInfo("Europe/London")).date()
    day, monday = today + timedelta(days=3), today + timedelta(days=3 - (today + timedelta(days=3)).weekday())
    queries = {
        "decision preview (one lock-free statement)":
            ("SELECT f.id, c.booked, o.closed, k.response,"
             " EXISTS (SELECT 1 FROM booking.ballot_draws d WHERE d.office = f.id AND d.date = %(day)s),"
             " (SELECT coalesce(json_agg(json_build_array(b.office, b.date)), '[]') FROM booking.bookings b"
             "  WHERE b.\"user\" = %(user)s AND b.status = ANY(%(held)s) AND b.date BETWEEN %(monday)s AND %(sunday)s)"
             " FROM booking.offices f LEFT JOIN booking.user_settings u ON u.email = %(user)s"
             " LEFT JOIN booking.day_counts c ON c.office = f.id AND c.date = %(day)s"
             " LEFT JOIN booking.day_overrides o ON o.office = f.id AND o.date = %(day)s"
             " LEFT JOIN booking.idempotency_keys k ON k.caller = %(user)s AND k.key = %(key)s WHERE f.id = 's1'"),
        "a user's bookings (GET /api/bookings)":
            ("SELECT * FROM booking.bookings WHERE \"user\" = %(user)s AND date >= %(from)s ORDER BY date"),
        "an office's slots (day counters)":
            ("SELECT * FROM booking.day_counts WHERE office = 's1' AND date BETWEEN %(monday)s AND %(sunday)s"),
    }
    params = {"user": user, "day": day, "monday": monday, "sunday": monday + timedelta(days=6),
              "held": ["active", "requested"], "from": today - timedelta(days=29),
              "key": "gateway:0123456789abcdef"}
    out = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name, sql in queries.items():
            out[name] = [r[0] for r in conn.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params).fetchall()]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    require_wrk()
    today = datetime.now(ZoneInfo("Europe/London")).date()
    dates = ", ".join(f'"{today + timedelta(days=d)}"' for d in range(1, 14))
    with running_stack(CONFIG, {"booking": 1}) as stack:  # the gateway: as ./ob run, two processes
        auth = {"Authorization": f"Bearer {stack.login('admin@my-company.example')['token']}"}
        reader = {"Authorization": stack.client(READER).headers["Authorization"]}
        with psycopg.connect(stack.database_url, autocommit=True) as conn:  # the reader's 20 bookings, both phases
            conn.execute(
                "INSERT INTO booking.bookings (id, \"user\", office, date, parking, status, created_at, created_by,"
                " sequence) SELECT md5('r' || j), %s, 's' || (j %% 10), current_date - 29 + j * 2, false, 'active',"
                " now(), %s, 0 FROM generate_series(0, 19) j", (READER, READER))
        empty = measure(stack, auth, reader, "o", args.seconds, dates)
        seeded_in = seed(stack.database_url, args.users, args.per_user)
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("identity.users", "booking.bookings", "booking.day_counts")}
            sizes = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('booking.bookings'))").fetchone()[0]
        full = measure(stack, auth, reader, "p", args.seconds, dates)
        shown = plans(stack.database_url, "seed-123@my-company.example")
    print(f"\nseeded in {seeded_in:.0f} s: {counts} (booking.bookings with its indexes: {sizes})")
    print(f"{'':28} {'empty':>18} {'seeded':>18} {'seeded / empty':>15}   [target: within 1.2 x]")
    for label, key in (("decisions/s", "decisions_per_s"), ("decisions p99 ms", "decisions_p99_ms"),
                               ("GET /api/bookings /s", "my_bookings_per_s"),
                               ("GET /api/bookings p99 ms", "my_bookings_p99_ms"),
                               ("GET /api/offices/s1 /s", "office_per_s"),
                               ("GET /api/offices/s1 p99 ms", "office_p99_ms")):
        ratio = full[key] / empty[key] if empty[key] else float("nan")
        print(f"{label:28} {empty[key]:18.1f} {full[key]:18.1f} {ratio:15.2f}")
    print(f"decision outcomes: empty {empty['statuses']}, seeded {full['statuses']}")
    for name, lines in shown.items():
        print(f"plan, {name}:")
        for line in lines:
            print("    " + line)
    print(json.dumps({"empty": empty, "seeded": full, "counts": counts, "seed_s": seeded_in}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
