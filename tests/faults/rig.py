"""One fault-injection scenario: sign clients in, load, inject the fault, wait for catch-up, check.

The rig owns a private RabbitMQ node, a private PostgreSQL cluster and the whole stack (five
services and the gateway as separate processes) under a `Supervisor` that restarts whatever exits.
Scenarios share it, one after another; each uses fresh users, so its checks read only its own
bookings (outboxes and counters are checked for everything).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .checks import State, problems
from .clients import Client, Recovery, Request, finish
from .supervisor import Supervisor, wait_all_ready

CLIENTS = 12
LOAD_SECONDS = 9.0  # per scenario
FAULT_AT = 3.0  # seconds into the load
AFTER_FAULT = 3.0  # the load goes on at least this long after the fault ended
RETRY_BUDGET = 30.0  # a request is retried until this long after the load ended
MAX_FAULT_SECONDS = 240.0  # a fault taking longer fails the scenario (the rolling restart takes longest)
CATCH_UP_TIMEOUT = 75.0  # notify leaves a mail claimed by a killed sender for 60 s
RECOVERY_LIMIT = 10.0

OFFICES = [
    {"id": "small", "name": "Small", "quota": 5, "parking_quota": 2},  # fills up: 409s, capacity races
    {"id": "large", "name": "Large", "quota": 500, "parking_quota": 20},
]
CONFIG = {"default_weekly_quota": 4, "offices": OFFICES}
RESULTS: list = []  # every scenario's figures, printed at the end of the run (conftest.py)


@dataclass
class Figures:
    scenario: str
    requests: int = 0
    attempts: int = 0
    created: int = 0  # 201
    cancelled: int = 0  # 204
    conflicts: int = 0  # 409
    server_errors: int = 0  # attempts answered 5xx
    answered_500: int = 0  # of those, 500 (a dependency down must be 503)
    connection_errors: int = 0  # attempts without an HTTP answer
    failed: int = 0  # requests with no answer < 500 after all retries
    fault_seconds: float | None = None  # how long the fault itself took (outage length)
    recovery: float | None = None  # from the fault's end to the first 2xx of an attempt started after it
    catch_up: float | None = None  # from the load's end until outboxes, mail and audit drained
    duplicate_mails: int = 0  # second copies of a confirmation (same Message-ID; notify SIGKILL only)
    unplanned_exits: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    error_samples: list = field(default_factory=list)  # a few failed attempts, for the report

    HEADER = ("| scenario | requests | attempts | 201 | 204 | 409 | 5xx (500) | conn. errors | failed | "
              "fault s | recovery s | catch-up s | dup. mails | unplanned exits |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")

    def row(self) -> str:
        def s(v):
            return "–" if v is None else f"{v:.1f}"
        exits = ", ".join(self.unplanned_exits) or "none"
        return (f"| {self.scenario} | {self.requests} | {self.attempts} | {self.created} | {self.cancelled} | "
                f"{self.conflicts} | {self.server_errors} ({self.answered_500}) | {self.connection_errors} | "
                f"{self.failed} | {s(self.fault_seconds)} | {s(self.recovery)} | {s(self.catch_up)} | "
                f"{self.duplicate_mails} | {exits} |")


def figures_of(name: str, requests: list[Request], t0: float) -> Figures:
    attempts = [a for r in requests for a in r.attempts]
    failed = sorted((a for a in attempts if a.status is None or a.status >= 500), key=lambda a: a.started)
    samples = [f"at {a.started - t0:.1f} s, {a.ended - a.started:.1f} s long: {a.status or a.error}"
               for a in failed[:3] + failed[-2:]]
    return Figures(error_samples=samples,
        scenario=name, requests=len(requests), attempts=len(attempts),
        created=sum(r.final == 201 for r in requests), cancelled=sum(r.final == 204 for r in requests),
        conflicts=sum(r.final == 409 for r in requests),
        server_errors=sum(a.status is not None and a.status >= 500 for a in attempts),
        answered_500=sum(a.status == 500 for a in attempts),
        connection_errors=sum(a.status is None for a in attempts),
        failed=sum(r.final is None for r in requests),
    )


class Rig:
    def __init__(self, stack, supervisor: Supervisor, amqp_uri: str, pg):
        self.stack, self.supervisor, self.amqp_uri, self.pg = stack, supervisor, amqp_uri, pg
        self.results: list[Figures] = RESULTS

    def sign_in(self, n: int) -> dict[str, str]:
        tag = uuid.uuid4().hex[:6]
        emails = [f"f{tag}-{i}@my-company.example" for i in range(n)]
        with ThreadPoolExecutor(n) as pool:
            tokens = list(pool.map(lambda e: self.stack.login(e)["token"], emails))
        return dict(zip(emails, tokens, strict=True))

    def run(self, name: str, fault: Callable[[], None], *, fault_at: float = FAULT_AT,
            load_seconds: float = LOAD_SECONDS, measure_recovery: bool = True,
            same_message_id_duplicates: bool = False) -> Figures:
        """Load the system with CLIENTS clients, call `fault()` `fault_at` seconds in (it returns
        when the fault is over: a process killed, a server back), then check everything."""
        wait_all_ready(self.stack)
        since = time.monotonic()
        users = self.sign_in(CLIENTS)
        start = time.monotonic()
        recovery = Recovery(wait=RECOVERY_LIMIT + 5)
        # The load goes on while the fault lasts (bounded by MAX_FAULT_SECONDS), then is cut short below.
        clients = [Client(self.stack.gateway_url, email, token, [o["id"] for o in OFFICES], seed=i,
                          load_until=start + fault_at + MAX_FAULT_SECONDS,
                          give_up_at=start + fault_at + MAX_FAULT_SECONDS + RETRY_BUDGET, recovery=recovery)
                   for i, (email, token) in enumerate(users.items())]
        for c in clients:
            c.start()
        time.sleep(max(0.0, start + fault_at - time.monotonic()))
        fault_started = time.monotonic()
        fault()
        recovery.end_fault()
        fault_ended = recovery.fault_ended
        for c in clients:  # load_seconds in all, and at least AFTER_FAULT after the fault
            c.load_until = max(start + load_seconds, fault_ended + AFTER_FAULT)
            c.give_up_at = c.load_until + RETRY_BUDGET
        requests = finish(clients)
        load_ended = time.monotonic()

        figures = figures_of(name, requests, start)
        figures.fault_seconds = fault_ended - fault_started
        if measure_recovery:
            figures.recovery = recovery.seconds

        state = State.read(self.stack.database_url, self.stack.smtp, set(users))
        while not state.drained() and time.monotonic() < load_ended + CATCH_UP_TIMEOUT:
            time.sleep(0.2)
            state = State.read(self.stack.database_url, self.stack.smtp, set(users))
        figures.catch_up = time.monotonic() - load_ended
        time.sleep(1.0)  # a duplicate mail or audit record would arrive about now
        state = State.read(self.stack.database_url, self.stack.smtp, set(users))

        exits = self.supervisor.unplanned_exits(since)
        figures.unplanned_exits = [f"{e.key} (status {e.returncode})" for e in exits]
        found = problems(requests, state, same_message_id_duplicates)
        figures.duplicate_mails = sum(n - 1 for n in state.mails.values() if n > 1)
        found += [f"unplanned exit of {e.key} with status {e.returncode}:\n{e.log_tail}" for e in exits]
        if figures.failed:
            found.append(f"{figures.failed} requests got no answer below 500 within {RETRY_BUDGET:.0f} s of retries")
        if figures.answered_500:
            found.append(f"{figures.answered_500} attempts answered 500 (a dependency down must be 503)")
        if measure_recovery and (figures.recovery is None or figures.recovery > RECOVERY_LIMIT):
            found.append(f"recovery {figures.recovery} s, want <= {RECOVERY_LIMIT:.0f} s")
        if not state.drained():
            found.append(f"not caught up {CATCH_UP_TIMEOUT:.0f} s after the load")
        if fault_ended - fault_started >= MAX_FAULT_SECONDS:
            found.append(f"the fault took {fault_ended - fault_started:.0f} s (load only covers {MAX_FAULT_SECONDS:.0f} s)")
        figures.problems = found
        self.results.append(figures)
        print(f"\n{Figures.HEADER}\n{figures.row()}")
        return figures
