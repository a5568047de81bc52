"""Database calls under eventlet must not block the hub (PLATFORM-NOTES: binary psycopg does).

Runs N slow queries in N green threads of one eventlet process, through the same engine code the
services use. With obcommon's selector-based wait they overlap (~1 x the sleep); the control run
without it shows what the test guards against (~N x the sleep).
"""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
N, SLEEP = 5, 0.5

PROBE = r"""
import warnings; warnings.filterwarnings("ignore")
import eventlet; eventlet.monkey_patch()
import json, sys, time
from sqlalchemy import text
from obcommon.db import make_engine, make_psycopg_green
if sys.argv[2] == "green":
    make_psycopg_green()
engine = make_engine(sys.argv[1], "overlap-probe", pool_size=8)
def slow(_):
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(%s)" % sys.argv[4]))
with engine.connect() as conn:
    conn.execute(text("SELECT 1"))  # warm the pool's first connection
pool = eventlet.GreenPool()
started = time.perf_counter()
list(pool.imap(slow, range(int(sys.argv[3]))))
print(json.dumps({"elapsed": time.perf_counter() - started}))
"""


def run_probe(database_url: str, mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE, database_url, mode, str(N), str(SLEEP)], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["elapsed"]


def test_slow_queries_in_one_process_overlap(database_url):
    elapsed = run_probe(database_url, "green")
    assert elapsed < SLEEP * 2.5, f"{N} concurrent {SLEEP}s queries took {elapsed:.2f}s: the hub is blocked"


def test_control_without_the_fix_is_serial(database_url):
    """Shows the overlap test can fail: the stock binary wait serialises the same queries."""
    elapsed = run_probe(database_url, "stock")
    assert elapsed >= SLEEP * (N - 0.5)


def test_a_service_answers_while_its_database_call_waits(stack):
    """In a running service: while an RPC is stuck on a lock in PostgreSQL, /readyz (which also
    queries the database) still answers at once, because the stuck call does not hold the hub."""
    import threading
    import time

    import psycopg
    import requests

    with psycopg.connect(stack.database_url) as locker:
        locker.execute("LOCK TABLE offices.offices IN ACCESS EXCLUSIVE MODE")
        result = {}

        def blocked_call():
            with stack.rpc(timeout=30) as rpc:
                started = time.perf_counter()
                rpc.offices.list_offices()
                result["elapsed"] = time.perf_counter() - started

        t = threading.Thread(target=blocked_call)
        t.start()
        time.sleep(0.3)  # the RPC is now waiting for the lock
        started = time.perf_counter()
        ready = requests.get(stack.processes["offices"].url + "/readyz", timeout=10)
        readyz_elapsed = time.perf_counter() - started
        time.sleep(0.7)
        locker.rollback()  # release the lock
    t.join(timeout=30)
    assert ready.status_code == 200
    assert readyz_elapsed < 0.5, f"readyz took {readyz_elapsed:.2f}s while another call waited on the database"
    assert result["elapsed"] >= 0.9  # the other call really was waiting meanwhile
