"""Several gateway processes per replica (GATEWAY_PROCESSES, gateway/workers.py), as `./ob run`
and the chart start it: both serve one port, a scrape counts every request whichever worker
answered it, a user's booking shows on every worker's read model (and no gateway process loads
SQLAlchemy), a worker that dies is replaced, and the replica stops cleanly (SIGTERM: exit 0, no worker left; the parent killed: the
workers stop instead of holding the port)."""
from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
import requests

from obcommon.messaging import wait_for
from tests.support.fixtures import running_stack
from tests.support.procs import children_of, cpu_ticks

ADMIN = "admin@my-company.example"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def fresh(method: str, url: str, **kwargs) -> requests.Response:
    """One request on a new connection (the kernel picks the worker per connection)."""
    with requests.Session() as session:
        return session.request(method, url, timeout=10, **kwargs)


@pytest.fixture()
def stack(database_server, amqp_server, tmp_path):
    env = {"GATEWAY_PROCESSES": "2", "GATEWAY_DRAIN_SECONDS": "0.5"}
    with running_stack(database_server, amqp_server, tmp_path, extra_env=env) as stack:
        gateway = stack.processes["gateway"]
        wait_for(lambda: gateway.log_path.read_text().count("gateway listening") >= 2, 60, what="two workers listening")
        yield stack


def test_two_workers_serve_one_port_and_one_scrape_counts_them_all(stack):
    parent = stack.processes["gateway"].popen.pid
    workers = children_of(parent)
    assert len(workers) == 2, workers
    before = {w: cpu_ticks(w)[0] for w in workers}
    for _ in range(300):
        assert fresh("GET", stack.url("/healthz")).status_code == 200
    assert all(cpu_ticks(w)[0] > before[w] for w in workers), "a worker took no connection"

    def healthz_count() -> float:
        text = fresh("GET", stack.url("/metrics")).text
        return float(re.search(r'^ob_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$',
                               text, re.M).group(1))

    # every scrape, whichever worker answers it, counts the requests of both
    assert {healthz_count() for _ in range(10)} == {300.0}
    scrape = fresh("GET", stack.url("/metrics")).text
    assert re.search(r'^ob_http_request_duration_seconds_count\{method="GET",route="/healthz"\} 300\.0$', scrape,
                     re.M), "the latency histogram counts both workers' requests"


def test_a_booking_shows_on_every_workers_read_model(stack):
    admin = stack.client(ADMIN)
    office = admin.get(stack.url("/api/offices"), timeout=10).json()[0]["id"]
    reader = {"Authorization": admin.headers["Authorization"]}
    day = fresh("GET", stack.url(f"/api/offices/{office}"), headers=reader).json()["slots"][1]["date"]
    for _ in range(20):  # both workers hold the day in their read models
        fresh("GET", stack.url(f"/api/offices/{office}"), headers=reader)

    def booked() -> set[int]:
        return {next(s["booked"] for s in fresh("GET", stack.url(f"/api/offices/{office}"), headers=reader).json()["slots"]
                     if s["date"] == day) for _ in range(20)}

    assert booked() == {0}
    made = admin.post(stack.url("/api/bookings"), json={"user": "w@my-company.example", "office": office,
                                                         "date": day}, timeout=10)
    assert made.status_code == 201, made.text
    started = time.monotonic()
    wait_for(lambda: booked() == {1}, 5, what="every worker shows the booking")
    assert time.monotonic() - started < 2
    # having served logins, a booking and reads, no gateway process maps SQLAlchemy's compiled
    # modules: the gateway owns no data (~20 MB per process, issue 16); psycopg is loaded by the
    # workers for /readyz's database check only, never by the parent
    gateway = stack.processes["gateway"].popen.pid
    for pid in [gateway, *children_of(gateway)]:
        assert "sqlalchemy" not in Path(f"/proc/{pid}/maps").read_text(), pid
    assert "psycopg" not in Path(f"/proc/{gateway}/maps").read_text()


def test_a_dead_worker_is_replaced_and_sigterm_stops_them_all(stack):
    gateway = stack.processes["gateway"]
    parent = gateway.popen.pid
    first, second = children_of(parent)
    os.kill(first, signal.SIGKILL)
    replaced = wait_for(lambda: (lambda c: c if len(c) == 2 and first not in c else None)(children_of(parent)), 10,
                        what="a new worker")
    assert second in replaced
    wait_for(lambda: gateway.log_path.read_text().count("gateway listening") >= 3, 30, what="the new worker listening")
    assert all(fresh("GET", stack.url("/readyz")).status_code == 200 for _ in range(20))

    gateway.popen.send_signal(signal.SIGTERM)
    assert gateway.popen.wait(timeout=30) == 0
    assert not any(alive(w) for w in replaced)
    with pytest.raises(requests.ConnectionError):
        fresh("GET", stack.url("/healthz"))


def test_workers_stop_when_their_parent_is_killed(stack):
    gateway = stack.processes["gateway"]
    workers = children_of(gateway.popen.pid)
    gateway.popen.send_signal(signal.SIGKILL)
    gateway.popen.wait(timeout=10)
    wait_for(lambda: not any(alive(w) for w in workers), 10, what="the orphaned workers stopped")
    with pytest.raises(requests.ConnectionError):
        fresh("GET", stack.url("/healthz"))
