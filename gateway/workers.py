"""Several gateway processes per replica (GATEWAY_PROCESSES > 1), forked from this one.

A gateway process is one eventlet loop and uses one core at most, so a replica with two cores
serves reads with two (issue 16: `GET /api/offices/{id}` 1,856/s with one process, ~6,200/s with
two, on two cores shared with the load generator). This process imports the app's modules once,
then forks the workers, which share those pages until they write them (each worker ~13 MB of its
own, against ~100 MB for a second `python -m gateway`). It serves nothing itself:

- each worker is `gateway/server.py` with its own hub, app, RPC pool, event listener and read
  models, listening on the same port (SO_REUSEPORT: the kernel spreads connections over them);
- a worker that exits while the replica is not stopping is replaced after a second (longer,
  doubling up to 30 s, while workers die within 10 s of starting);
- SIGTERM and SIGINT are passed to every worker, which drains as `gateway/server.py` says; this
  process exits when they all have (0 when all exited 0). A worker whose parent is killed stops.

Metrics: every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's
multiprocess mode; a fresh temporary directory unless set), and `/metrics` on any worker answers
the sum over all of them, so a scrape sees the replica whichever worker answers it.

Each worker's read models follow the events on their own queue: a user's change is seen at once
by the worker that made it and within the events' delivery (milliseconds) by the others, as with
two replicas.
"""
from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path

from eventlet import patcher

from obcommon.config import AppConfig, Env

# This process never runs eventlet's hub (each worker starts its own): the blocking originals.
_os = patcher.original("os")
_time = patcher.original("time")
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def shared_metrics_dir() -> tuple[Path, bool]:
    """The multiprocess metrics directory, emptied of an earlier run's files; set in the
    environment before prometheus_client is imported. Returns (directory, whether we made it)."""
    given = os.environ.get(METRICS_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.db"):
            old.unlink()
        return directory, False
    directory = Path(tempfile.mkdtemp(prefix="ob-gateway-metrics-"))
    os.environ[METRICS_DIR] = str(directory)
    return directory, True


def run(config: AppConfig, env: Env) -> int:
    directory, made = shared_metrics_dir()
    from obcommon.logs import setup_logging

    setup_logging("gateway")
    log = logging.getLogger("gateway")
    from prometheus_client import multiprocess

    from gateway import app, server  # noqa: F401 - the app's modules, imported once for every worker

    workers: dict[int, tuple[int, float]] = {}  # pid -> (worker number, when it was forked)
    stopping: list[int] = []

    def fork(number: int) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # a stop signal waits until `workers` knows the pid
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for signum in STOP_SIGNALS:
                    signal.signal(signum, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
                code = server.serve(config, env, worker=True)
            except BaseException:  # noqa: BLE001 - whatever happened, this process must end here
                log.exception("gateway worker failed")
            finally:
                os._exit(code)
        workers[pid] = (number, _time.monotonic())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def stop(signum: int, _frame) -> None:
        stopping.append(signum)
        for pid in list(workers):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    gc.freeze()  # the imported objects stay out of the workers' collections: their pages stay shared
    for number in range(env.gateway_processes):
        fork(number)
    log.info("gateway: %d worker processes %s", len(workers), sorted(workers))
    code = 0
    delay = 1.0  # before a replacement; doubled (up to 30 s) while workers die within 10 s of starting
    while workers:
        try:
            pid, status = _os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid not in workers:
            continue
        number, forked_at = workers.pop(pid)
        multiprocess.mark_process_dead(pid)
        exit_code = os.waitstatus_to_exitcode(status)
        if stopping:
            code = code or (exit_code if exit_code > 0 else 1 if exit_code < 0 else 0)
            continue
        if _time.monotonic() - forked_at >= 10:
            delay = 1.0
        wait, delay = delay, min(delay * 2, 30.0)
        log.error("gateway worker %s exited (%s): starting another in %.0f s", pid, exit_code, wait)
        until = _time.monotonic() + wait
        while not stopping and _time.monotonic() < until:  # a stop signal ends the wait
            _time.sleep(0.1)
        if not stopping:
            fork(number)
    if made:
        shutil.rmtree(directory, ignore_errors=True)
    log.info("gateway stopped")
    return code
