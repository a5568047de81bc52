"""Who is calling, without an RPC per request: a session read model kept current by events.

The first request of a session on a replica asks identity (`get_session`) and caches the answer.
Identity's `session_revoked` and `user_changed` events, consumed by every replica on its own
exclusive queue, evict entries at once, so logout and role or quota changes apply everywhere
within the broker's delivery time (milliseconds). While the listener is disconnected the cache is
not trusted (every request asks identity) and it is emptied on reconnect, so no event can be
missed silently.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from kombu import Connection, Consumer, Queue, binding

from obcommon.messaging import event_exchange

log = logging.getLogger(__name__)


class SessionCache:
    max_entries = 100_000
    max_unknown = 10_000
    unknown_ttl = 30.0  # seconds a token identity does not know is answered 401 without asking
    flight_wait = 10.0  # seconds a request waits for another's question about the same session

    def __init__(self, fetch: Callable[[str], dict | None]):
        self._fetch = fetch
        self._by_id: dict[str, dict] = {}
        self._by_email: dict[str, set[str]] = {}
        # Made-up or expired tokens: answered from here for a while, so a stream of them
        # neither sends every request to identity nor disturbs the cache of real sessions. A
        # session id is a hash of a token identity generates at sign-in, so a token unknown now
        # cannot become a valid session later: caching "unknown" never hides a real session.
        self._unknown: OrderedDict[str, float] = OrderedDict()
        self._generation = 0
        self._flights: dict[str, threading.Event] = {}  # session id -> set when its question is answered
        self._lock = threading.Lock()
        self.trusted = False  # set by the listener while it is connected

    def _held(self, session_id: str) -> tuple[bool, dict | None]:
        """(True, the session) when the cache answers: a session held, or None for a token known
        to be unknown; (False, None) when identity must be asked."""
        entry = self._by_id.get(session_id) if self.trusted else None
        if entry is not None and entry["_expires"] > time.time():
            return True, entry
        if self._unknown.get(session_id, 0.0) > time.monotonic():
            return True, None
        return False, None

    def held(self, session_id: str) -> dict | None:
        """The session if this cache holds it (identity is not asked); else None."""
        return self._held(session_id)[1]

    def get(self, session_id: str) -> dict | None:
        answered, entry = self._held(session_id)
        if answered:
            return entry
        # One question to identity per session at a time: the requests of a session that arrive
        # together on a cold cache (a replica just started, a burst on one token) wait for the
        # first one's answer instead of each asking (issue 16: ~1,000 calls in a window opening).
        with self._lock:
            flight = self._flights.get(session_id)
            first = flight is None
            if flight is None:
                flight = self._flights[session_id] = threading.Event()
        if not first:
            flight.wait(self.flight_wait)
            answered, entry = self._held(session_id)
            return entry if answered else self._ask(session_id)  # else the first one failed, or nothing is cached now
        try:
            return self._ask(session_id)
        finally:
            with self._lock:
                self._flights.pop(session_id, None)
            flight.set()

    def _ask(self, session_id: str) -> dict | None:
        generation = self._generation
        info = self._fetch(session_id)
        if info is None:
            with self._lock:
                if session_id in self._by_id:  # expired or revoked meanwhile: forget it
                    self._generation += 1
                    entry = self._by_id.pop(session_id)
                    self._by_email.get(entry["email"], set()).discard(session_id)
                self._unknown[session_id] = time.monotonic() + self.unknown_ttl
                self._unknown.move_to_end(session_id)
                while len(self._unknown) > self.max_unknown:
                    self._unknown.popitem(last=False)
            return None
        info["_expires"] = datetime.fromisoformat(info["expires_at"]).timestamp()
        with self._lock:
            # An eviction that happened while we were asking wins: do not cache a stale answer.
            if self.trusted and generation == self._generation and len(self._by_id) < self.max_entries:
                self._by_id[session_id] = info
                self._by_email.setdefault(info["email"], set()).add(session_id)
        return info

    def evict_session(self, session_id: str) -> None:
        with self._lock:
            self._generation += 1
            entry = self._by_id.pop(session_id, None)
            if entry:
                self._by_email.get(entry["email"], set()).discard(session_id)

    def evict_email(self, email: str) -> None:
        with self._lock:
            self._generation += 1
            for sid in self._by_email.pop(email, set()):
                self._by_id.pop(sid, None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._by_id.clear()
            self._by_email.clear()


class EventListener:
    """Consumes events on a per-replica queue, in a background (green) thread, and hands each to
    its handler: a `@typed_handler(EventSpec)` function (gateway/events.py), which validates it."""

    def __init__(self, amqp_uri: str, handlers: list[Callable[[dict], None]],
                 on_connected: Callable[[bool], None]):
        self.amqp_uri = amqp_uri
        # `event_spec` is set on the function by obcommon.messaging.typed_handler
        self.handlers = {(h.event_spec.service, h.event_spec.name): h for h in handlers}  # type: ignore[attr-defined]
        self.on_connected = on_connected
        self.queue_name = f"gateway-events-{uuid.uuid4().hex[:12]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gateway-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _queues(self) -> list[Queue]:
        # One exclusive queue per replica, bound once per (service, event) it handles.
        bindings = [binding(event_exchange(service), routing_key=event) for service, event in self.handlers]
        return [Queue(self.queue_name, bindings=bindings, exclusive=True, auto_delete=True, durable=False)]

    def _dispatch(self, body, message) -> None:
        key = (message.delivery_info.get("exchange", "").removesuffix(".events"),
               message.delivery_info.get("routing_key"))
        handler = self.handlers.get(key)
        try:
            if handler and isinstance(body, dict):
                handler(body)
        except Exception:  # noqa: BLE001 - a bad event must not stop invalidation
            log.exception("gateway event handler failed for %s", key)
        message.ack()

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                with Connection(self.amqp_uri, heartbeat=20, connect_timeout=3) as conn:
                    with Consumer(conn, queues=self._queues(), callbacks=[self._dispatch], accept=["json"]):
                        self.on_connected(True)
                        backoff = 0.2
                        while not self._stop.is_set():
                            try:
                                conn.drain_events(timeout=1)
                            except TimeoutError:
                                conn.heartbeat_check()
            except Exception as exc:  # noqa: BLE001 - reconnect forever
                log.warning("gateway event listener disconnected: %r", exc)
            self.on_connected(False)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)
