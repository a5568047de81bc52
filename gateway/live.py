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
from typing import Iterator, Optional

from flask import Response, request, stream_with_context

from .api import endpoint, ob
from .auth import current_caller

KEEPALIVE_SECONDS = 15


class EventHub:
    def __init__(self, size: int = 2000):
        self.history: deque[tuple[str, dict]] = deque(maxlen=size)
        self.seen: set[str] = set()
        self.subscribers: set[queue.Queue] = set()
        self.lock = threading.Lock()

    def on_booking_event(self, event: dict) -> None:
        a = event.get("availability")
        if not a or not event.get("event_id"):
            return
        entry = (f"{event.get('at', '')}|{event['event_id']}",
                 {k: a[k] for k in ("office", "date", "booked", "booked_parking")})
        with self.lock:
            if entry[0] in self.seen:  # at-least-once delivery: a replayed event is not sent twice
                return
            if len(self.history) == self.history.maxlen:
                self.seen.discard(self.history[0][0])
            self.history.append(entry)
            self.seen.add(entry[0])
            subscribers = list(self.subscribers)
        for q in subscribers:
            try:
                q.put_nowait(entry)
            except queue.Full:  # a stuck client loses live updates rather than memory
                pass

    def subscribe(self, last_id: Optional[str]) -> tuple[queue.Queue, list[tuple[str, dict]]]:
        q: queue.Queue = queue.Queue(maxsize=1000)
        with self.lock:
            self.subscribers.add(q)
            backlog = [e for e in self.history if last_id and e[0] > last_id]
        return q, backlog

    def unsubscribe(self, q: queue.Queue) -> None:
        with self.lock:
            self.subscribers.discard(q)


def _format(entry: tuple[str, dict]) -> str:
    return f"id: {entry[0]}\nevent: availability\ndata: {json.dumps(entry[1])}\n\n"


@endpoint("/events", "GET", "Live availability (server-sent events named `availability`)",
          responses={200: {"description": "an event stream",
                           "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
def events():
    caller = current_caller()
    state = ob()
    hub: EventHub = state.hub
    q, backlog = hub.subscribe(request.headers.get("Last-Event-ID"))
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
            hub.unsubscribe(q)

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx ingress: do not buffer the stream
    return response
