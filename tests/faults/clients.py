"""Clients that book and cancel through the gateway while a fault happens.

Each client is one signed-in user in a thread of its own. It books a random office and day (an
`Idempotency-Key` per booking) or cancels one of its bookings, and retries a request with the same
key on a 5xx answer or a connection error, as a careful API client would, until it gets an answer
(or `give_up_at` passes: that request then counts as failed). Loops are bounded in count and time
and only talk to 127.0.0.1.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

MAX_REQUESTS_PER_CLIENT = 400
PAUSE = 0.05  # seconds between one client's requests
ATTEMPT_TIMEOUT = (3, 15)  # connect, read (the gateway's RPC timeout is 10 s)


@dataclass
class Attempt:
    started: float  # time.monotonic()
    ended: float
    status: int | None  # None: no HTTP answer
    error: str | None = None
    booking_id: str | None = None  # of a 201


@dataclass
class Request:
    kind: str  # "book" | "cancel"
    body: dict
    key: str | None = None  # Idempotency-Key
    booking_id: str | None = None  # booked (201) or to cancel
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def final(self) -> int | None:
        """The status that ended the request; None if it never got a non-5xx answer."""
        last = self.attempts[-1] if self.attempts else None
        return last.status if last and last.status is not None and last.status < 500 else None

    @property
    def in_doubt_before_final(self) -> bool:
        """An earlier attempt may have reached the service (5xx or no answer)."""
        return any(a.status is None or a.status >= 500 for a in self.attempts[:-1])


class Recovery:
    """Shared by the clients: when the fault ended and the first 2xx answer to an attempt started
    after that. Until it comes, the clients keep going (at most `wait` seconds after the fault)."""

    def __init__(self, wait: float):
        self.wait = wait
        self.fault_ended: float | None = None
        self.first_2xx: float | None = None
        self._lock = threading.Lock()

    def end_fault(self) -> None:
        self.fault_ended = time.monotonic()

    def answered(self, attempt: Attempt) -> None:
        ended = self.fault_ended
        if ended is not None and attempt.started >= ended and attempt.status is not None and 200 <= attempt.status < 300:
            with self._lock:
                if self.first_2xx is None or attempt.ended < self.first_2xx:
                    self.first_2xx = attempt.ended

    def awaited(self) -> bool:
        ended = self.fault_ended
        return ended is not None and self.first_2xx is None and time.monotonic() < ended + self.wait

    @property
    def seconds(self) -> float | None:
        return None if self.first_2xx is None else self.first_2xx - self.fault_ended


def day(offset: int, zone: str = "Europe/London") -> str:
    return (datetime.now(ZoneInfo(zone)).date() + timedelta(days=offset)).isoformat()


class Client(threading.Thread):
    def __init__(self, base_url: str, email: str, token: str, offices: list[str], seed: int,
                 load_until: float, give_up_at: float, recovery: Recovery):
        super().__init__(name=f"client-{email}", daemon=True)
        assert base_url.startswith("http://127.0.0.1:"), base_url
        self.base_url, self.email = base_url, email
        self.headers = {"Authorization": f"Bearer {token}"}
        self.offices = offices
        self.rng = random.Random(seed)
        self.load_until, self.give_up_at = load_until, give_up_at
        self.recovery = recovery
        self.requests: list[Request] = []
        self.active: list[str] = []  # booking ids this client believes active

    def run(self) -> None:
        while ((time.monotonic() < self.load_until or self.recovery.awaited())
               and len(self.requests) < MAX_REQUESTS_PER_CLIENT):
            if self.active and self.rng.random() < 0.35:
                self.cancel(self.rng.choice(self.active))
            else:
                self.book(self.rng.choice(self.offices), day(self.rng.randint(1, 12)), self.rng.random() < 0.25)
            time.sleep(PAUSE)

    def book(self, office: str, date: str, parking: bool) -> None:
        req = Request("book", {"user": self.email, "office": office, "date": date, "parking": parking},
                      key=uuid.uuid4().hex)
        self._send(req, "POST", "/api/bookings")
        if req.final == 201:
            req.booking_id = req.attempts[-1].booking_id
            self.active.append(req.booking_id)

    def cancel(self, booking_id: str) -> None:
        req = Request("cancel", {}, booking_id=booking_id)
        self._send(req, "DELETE", f"/api/bookings/{booking_id}")
        # 404 after an attempt in doubt: that attempt cancelled it (DELETE is idempotent)
        if req.final == 204 or (req.final == 404 and req.in_doubt_before_final):
            self.active.remove(booking_id)

    def _send(self, req: Request, method: str, path: str) -> None:
        self.requests.append(req)
        headers = dict(self.headers, **({"Idempotency-Key": req.key} if req.key else {}))
        delay = 0.2
        while True:
            started = time.monotonic()
            try:
                # a new connection per attempt: a stale keep-alive connection is the client's problem
                r = requests.request(method, self.base_url + path, json=req.body or None, headers=headers,
                                     timeout=ATTEMPT_TIMEOUT)
                attempt = Attempt(started, time.monotonic(), r.status_code)
                if r.status_code == 201:
                    attempt.booking_id = r.json()["id"]
                elif r.status_code >= 500:
                    attempt.error = r.text[:200]
            except requests.RequestException as exc:
                attempt = Attempt(started, time.monotonic(), None, f"{type(exc).__name__}: {exc}"[:200])
            req.attempts.append(attempt)
            self.recovery.answered(attempt)
            if attempt.status is not None and attempt.status < 500:
                return
            if time.monotonic() + delay > self.give_up_at:
                return  # failed: no answer in time
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def finish(clients: list[Client]) -> list[Request]:
    """Wait for started clients to finish; every request they made."""
    for c in clients:
        c.join(timeout=max(0.0, c.give_up_at - time.monotonic()) + 20)
        assert not c.is_alive(), f"{c.name} did not finish"
    return [r for c in clients for r in c.requests]
