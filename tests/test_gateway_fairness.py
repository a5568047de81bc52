"""A busy keep-alive connection does not keep the gateway from answering the others.

eventlet.wsgi serves a connection's next request without yielding when it has already arrived;
the gateway yields once per request (`gateway.server.take_turns`). Here one client pipelines
a long run of requests on one connection, and a second client's single request must be answered
while most of the first one's answers are still to come: served in turn, not after the run.
"""
from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

PIPELINED = 600


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _count_answers(sock: socket.socket, want: int, counted: list[int], done: threading.Event) -> None:
    buffer = b""
    while counted[0] < want:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        buffer += chunk
        answers = buffer.count(b"HTTP/1.1 200")
        counted[0] += answers
        buffer = buffer[buffer.rfind(b"HTTP/1.1 200") + 1:] if answers else buffer[-32:]
    done.set()


def test_a_pipelining_connection_does_not_hold_up_another(stack):
    request = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"
    busy = _connect(stack.gateway_url)
    other = _connect(stack.gateway_url)
    try:
        counted = [0]
        done = threading.Event()
        reader = threading.Thread(target=_count_answers, args=(busy, PIPELINED, counted, done), daemon=True)
        reader.start()
        busy.sendall(request * PIPELINED)  # every request at once: none of its reads will block
        while counted[0] < 20 and not done.is_set():  # the gateway is busy with the run
            time.sleep(0.001)
        other.sendall(request)
        answer = other.recv(1 << 16)
        served_before = counted[0]
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        done.wait(60)
        assert counted[0] == PIPELINED
        # In turn: one of the run's requests, then ours (a few more for the scheduling of the
        # two client threads). Without the yield ours waited for the whole run.
        assert served_before < PIPELINED / 2, f"answered after {served_before} of {PIPELINED} pipelined requests"
    finally:
        busy.close()
        other.close()
