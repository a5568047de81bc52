"""Shared pieces of the benchmarks: wrk runs, the bare Flask baseline, a running stack."""
from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
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
def running_stack(config: dict | None = None, extra: dict | None = None) -> Iterator[Stack]:
    """The real stack; `extra` = {process name: number of additional replicas}. Extra gateways
    listen on the first one's port (SO_REUSEPORT), so one URL reaches them all."""
    with fresh_vhost(amqp_server_uri()) as amqp, fresh_database(database_server_url()) as db:
        stack = Stack(amqp, db, config=config)
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
                    while "gateway listening" not in proc.log_path.read_text(errors="replace"):
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"{key} is not listening")
                        time.sleep(0.1)
            yield stack
        finally:
            stack.stop()


def require_wrk() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian: apt-get install wrk)")
