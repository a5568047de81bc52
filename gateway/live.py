"""Live availability (SPEC §9 GET /api/events): server-sent events fed by booking's events.

Every gateway replica receives every booking event on its own queue (gateway/sessions.py's
listener), so each keeps the same recent history. An event's id is `<event time>|<event id>`;
a client that reconnects, to any replica, with `Last-Event-ID` gets what it missed from that
history (the last `size` events), then live ones.
"""
from __future__ import annotations

import json
import queue
import threading
from collections import deque
from collections.abc import Iterator

from flask import Response, request, stream_with_context

from .api import endpoint, ob
from .auth import current_caller
from .errors import ApiError

KEEPALIVE_SECONDS = 5  # also how soon a closed stream gives its slot back (two writes)
STREAMS_PER_SESSION = 3  # a few tabs of one browser; more is a client bug or an attack
STREAMS_PER_REPLICA = 1000  # well below the server's connection slots (gateway/server.py)


# A day override (SPEC §15) adds the day's effective capacity to its availability event.
DAY_FIELDS = ("quota", "parking_quota", "closed", "note")


# A history entry: (id, data, event name, the one user it is for, or None for everyone).
Entry = tuple[str, dict, str, str | None]


class TooManyStreams(Exception):
    pass


class EventHub:
    """Recent events and the open streams. An entry is (id, data, event name, user): `user` None
    for `availability` (everyone), else the one user whose streams get it (a `waitlist` event,
    SPEC §12: their queue position changed, or their entry was promoted, expired or drawn)."""

    def __init__(self, size: int = 2000, per_session: int = STREAMS_PER_SESSION,
                 per_replica: int = STREAMS_PER_REPLICA):
        self.history: deque[Entry] = deque(maxlen=size)
        self.seen: set[str] = set()
        self.subscribers: dict[queue.Queue, str] = {}  # stream -> its user's email
        self.lock = threading.Lock()
        self.per_session = per_session
        self.per_replica = per_replica
        self.streams: dict[str, int] = {}  # open streams per session id

    def on_booking_event(self, event: dict) -> None:
        a = event.get("availability")
        if not a or not event.get("event_id"):
            return
        self._publish((f"{event.get('at', '')}|{event['event_id']}",
                       {k: a[k] for k in ("office", "date", "booked", "booked_parking", *DAY_FIELDS) if k in a},
                       "availability", None))

    def on_user_event(self, event_id: str, at: str, user: str, data: dict, name: str = "waitlist") -> None:
        """An event for one user's streams only (on every replica, as every replica gets it)."""
        self._publish((f"{at}|{event_id}:{user}", data, name, user))

    def _publish(self, entry: Entry) -> None:
        with self.lock:
            if entry[0] in self.seen:  # at-least-once delivery: a replayed event is not sent twice
                return
            if len(self.history) == self.history.maxlen:
                self.seen.discard(self.history[0][0])
            self.history.append(entry)
            self.seen.add(entry[0])
            subscribers = [q for q, user in self.subscribers.items() if entry[3] is None or entry[3] == user]
        for q in subscribers:
            try:
                q.put_nowait(entry)
            except queue.Full:  # a stuck client loses live updates rather than memory
                pass

    def subscribe(self, last_id: str | None, session_id: str = "", user: str = "") -> tuple[queue.Queue, list[Entry]]:
        """A queue of live events and the backlog after `last_id` (this user's and everyone's).
        TooManyStreams when the session already holds `per_session` streams or the replica
        `per_replica` (one session could hold every connection slot of a replica)."""
        q: queue.Queue = queue.Queue(maxsize=1000)
        with self.lock:
            if len(self.subscribers) >= self.per_replica or self.streams.get(session_id, 0) >= self.per_session:
                raise TooManyStreams()
            self.subscribers[q] = user
            self.streams[session_id] = self.streams.get(session_id, 0) + 1
            backlog = [e for e in self.history if last_id and e[0] > last_id and e[3] in (None, user)]
        return q, backlog

    def unsubscribe(self, q: queue.Queue, session_id: str = "") -> None:
        with self.lock:
            if q in self.subscribers:
                self.subscribers.pop(q, None)
                left = self.streams.get(session_id, 0) - 1
                if left > 0:
                    self.streams[session_id] = left
                else:
                    self.streams.pop(session_id, None)


def _format(entry: Entry) -> str:
    return f"id: {entry[0]}\nevent: {entry[2]}\ndata: {json.dumps(entry[1])}\n\n"


@endpoint("/events", "GET", "Live availability (server-sent events named `availability`) and the caller's"
          " waitlist changes (events named `waitlist`, SPEC §12)",
          responses={200: {"description": "an event stream",
                           "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
def events():
    caller = current_caller()
    state = ob()
    hub: EventHub = state.hub
    try:
        q, backlog = hub.subscribe(request.headers.get("Last-Event-ID"), caller.session_id, caller.email)
    except TooManyStreams:
        raise ApiError(429, "Too many requests", {"Retry-After": "5"}) from None
    # eventlet.wsgi holds writes until 4 KiB by default: an event stream must go out at once.
    request.environ["eventlet.minimum_write_chunk_size"] = 0

    def stream() -> Iterator[str]:
        try:
            yield "retry: 3000\n\n"
            for entry in backlog:
                yield _format(entry)
            while True:
                try:
                    entry = q.get(timeout=KEEPALIVE_SECONDS)
                except queue.Empty:
                    if state.sessions.get(caller.session_id) is None:  # signed out meanwhile
                        return
                    yield ": keep-alive\n\n"
                    continue
                yield _format(entry)
        finally:
            hub.unsubscribe(q, caller.session_id)

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx ingress: do not buffer the stream
    return response
