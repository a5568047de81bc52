"""Shared pieces of the benchmarks: wrk runs, the bare Flask baseline, a running stack."""
from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from obcommon.config import default_gateway_processes  # noqa: E402
from obcommon.migrate import upgrade  # noqa: E402
from obcommon.service import Db  # noqa: E402
from tests.support.infra import amqp_server_uri, database_server_url, free_port, fresh_database, fresh_vhost  # noqa: E402
from tests.support.procs import children_of, cpu_ticks  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

BARE_APP = textwrap.dedent("""
    from flask import Flask, jsonify
    app = Flask(__name__)
    SLOTS = [{"date": f"2030-01-{d:02d}", "booked": d, "booked_parking": d // 2} for d in range(1, 15)]
    @app.get("/slots")
    def slots():
        return jsonify({"id": "alpha", "slots": SLOTS})
""")


def wrk(url: str, connections: int, seconds: int, headers: dict | None = None, script: str | None = None,
        threads: int = 2) -> dict:
    # --timeout: a slow answer is measured, not dropped (wrk's 2 s default counts it as a socket
    # timeout and leaves it out of the latency figures)
    cmd = ["wrk", f"-c{connections}", f"-t{min(connections, threads)}", f"-d{seconds}s", "--latency", "--timeout", "60s"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        if script:
            f.write(script)
    if script:
        cmd += ["-s", f.name]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout

    def latency_ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    statuses = dict(re.findall(r"^status (\d+) (\d+)$", out, re.M))
    return {"rps": rps, "p50_ms": latency_ms("50"), "p99_ms": latency_ms("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else None,
            "statuses": {k: int(v) for k, v in statuses.items()}, "raw": out}


def bare_flask(connections: int, seconds: int) -> dict:
    """PLATFORM-NOTES' baseline: gunicorn, 2 sync workers, a 14-slot JSON."""
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


@contextlib.contextmanager
def running_stack(config: dict | None = None, extra: dict | None = None,
                  gateway_processes: int | None = None) -> Iterator[Stack]:
    """The real stack as `./ob run` starts it (GATEWAY_PROCESSES: the default unless given);
    `extra` = {process name: number of additional replicas}. Extra gateways listen on the first
    one's port (SO_REUSEPORT), so one URL reaches them all."""
    processes = gateway_processes or default_gateway_processes()
    with fresh_vhost(amqp_server_uri()) as amqp, fresh_database(database_server_url()) as db:
        stack = Stack(amqp, db, config=config, extra_env={"GATEWAY_PROCESSES": str(processes)})
        try:
            stack.start()
            for name, count in (extra or {}).items():
                for i in range(count):
                    shared = stack.processes["gateway"].http_port if name == "gateway" else None
                    stack.launch(name, key=f"{name}{i + 2}", port=shared)
            stack.wait_ready()
            for key, proc in stack.processes.items():  # a shared port answers before every replica listens
                if key.startswith("gateway"):
                    deadline = time.monotonic() + 60
                    while proc.log_path.read_text(errors="replace").count("gateway listening") < processes:
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{key} is not listening")
                        time.sleep(0.1)
            yield stack
        finally:
            stack.stop()


@contextlib.contextmanager
def service_db(service: str) -> Iterator[Db]:
    """A fresh database migrated for `service`, and a `Db` on it (the one-process benchmarks)."""
    base = importlib.import_module(f"services.{service}.models").Base
    with fresh_database(database_server_url(), "ob_bench") as url:
        upgrade(url, [service])
        db = Db.standalone(url, base, service)
        try:
            yield db
        finally:
            db.dispose()


def require_wrk() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")


# ---------------------------------------------------------------- the trivial-RPC anchor

@contextlib.contextmanager
def anchor(amqp_uri: str) -> Iterator[str]:
    """tools/anchor.py running (service + web) on `amqp_uri`; yields the URL of GET /ping."""
    port = free_port()
    env = {**os.environ, "AMQP_URI": amqp_uri, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "tools.anchor", *args], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for args in (["service"], ["web", str(port)])]
    url = f"http://127.0.0.1:{port}/ping"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the anchor did not answer")
            time.sleep(0.2)
        yield url
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


# ---------------------------------------------------------------- CPU per process

def pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / _HZ


_HZ = os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds per process between `start()` and `stop()`: the stack's processes by name,
    RabbitMQ (beam.smp) and PostgreSQL (every postgres process, plus what the postmaster reaped
    from backends that exited meanwhile), the benchmark itself (load client, SMTP peer) and the
    whole machine."""

    def __init__(self, processes: dict[str, int]):
        self.processes = processes  # label -> pid

    def _sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for label, pid in self.processes.items():
            group = label.split(":")[0].rstrip("0123456789")  # booking2 and gateway:<worker> count with theirs
            out[group] = out.get(group, 0.0) + cpu_ticks(pid)[0] / _HZ
        out["rabbitmq"] = sum(cpu_ticks(p)[0] for p in pids_named("beam.smp")) / _HZ
        pg = pids_named("postgres")
        out["postgresql"] = (sum(cpu_ticks(p)[0] for p in pg) + sum(cpu_ticks(p)[1] for p in pg)) / _HZ
        out["benchmark (load, SMTP peer)"] = cpu_ticks(os.getpid())[0] / _HZ
        out["machine"] = _machine_busy()
        return out

    def start(self) -> CpuMeter:
        self._before = self._sample()
        self._t0 = time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        after = self._sample()
        self.seconds = time.monotonic() - self._t0
        return {k: max(0.0, after[k] - self._before.get(k, 0.0)) for k in after}


def stack_pids(stack: Stack) -> dict[str, int]:
    """Every process of the stack by label: each process's own key, its forked workers (the
    gateway's, gateway/workers.py) as `<key>:<pid>`."""
    out = {}
    for key, proc in stack.processes.items():
        out[key] = proc.popen.pid
        out.update({f"{key}:{child}": child for child in children_of(proc.popen.pid)})
    return out


# ---------------------------------------------------------------- open loop

def open_loop(send: Callable[[int], int], rate: float, seconds: float, workers: int = 400) -> dict:
    """Send `rate` requests per second for `seconds`, on schedule whatever the answers take (an
    open loop: a slow system meets a growing queue, as real clients would make it). `send(i)`
    makes request i and returns its status. Latency is measured from the scheduled send time,
    so time a request waited for a free client thread counts (no coordinated omission)."""
    from concurrent.futures import ThreadPoolExecutor

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def one(i: int, due: float) -> None:
        try:
            status = str(send(i))
        except Exception as exc:  # noqa: BLE001 - a connection error is a result
            status = type(exc).__name__
        took = time.monotonic() - due
        with lock:
            latencies.append(took)
            statuses[status] = statuses.get(status, 0) + 1

    total = int(rate * seconds)
    start = time.monotonic() + 0.2
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i in range(total):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, i, due)
    return {"offered_per_s": rate, "seconds": seconds, "requests": total, "statuses": statuses,
            "p50_ms": percentile_ms(latencies, 0.5), "p99_ms": percentile_ms(latencies, 0.99),
            "max_ms": percentile_ms(latencies, 1.0)}


def percentile_ms(seconds: list[float], p: float) -> float:
    """The p-th quantile (nearest rank) of latencies in seconds, in milliseconds; NaN if none."""
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


# ---------------------------------------------------------------- consumers' lag

def lag_after_load(database_url: str, gateway_url: str, auth: dict, offices: list[str],
                   timeout: float = 120.0) -> float | None:
    """Seconds from now until every consumer of the load's events has caught up: the outboxes
    are empty, every mail is sent, audit holds one `booking_created` per booking, and the
    gateway's read model (asked over fresh connections, so every replica behind the shared port
    answers some) shows booking's counters. None if not within `timeout`."""
    import psycopg

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with psycopg.connect(database_url, autocommit=True) as conn:
            outboxes = sum(conn.execute(f"SELECT count(*) FROM {s}.outbox").fetchone()[0]
                           for s in ("identity", "offices", "booking", "notify", "audit"))
            unsent = conn.execute("SELECT count(*) FROM notify.mail WHERE sent_at IS NULL").fetchone()[0]
            bookings = conn.execute("SELECT count(*) FROM booking.bookings").fetchone()[0]
            audited = conn.execute("SELECT count(*) FROM audit.records WHERE action = 'booking_created'"
                                   ).fetchone()[0]
            counts = {(o, d.isoformat()): n for o, d, n in conn.execute(
                "SELECT office, date, booked FROM booking.day_counts WHERE office = ANY(%s)", (offices,))}
        current = not outboxes and not unsent and audited >= bookings
        if current:
            for office in offices:
                for _ in range(4):
                    slots = requests.get(f"{gateway_url}/api/offices/{office}", headers={**auth, "Connection": "close"},
                                         timeout=10).json()["slots"]
                    if any(counts.get((office, s["date"]), 0) != s["booked"] for s in slots):
                        current = False
                        break
                if not current:
                    break
        if current:
            return time.monotonic() - start
        time.sleep(0.1)
    return None
