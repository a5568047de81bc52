"""Resource limits at the gateway: live-event streams per session, made-up tokens,
and the readiness probe."""
from __future__ import annotations

import time
import uuid

import requests

from gateway.live import STREAMS_PER_SESSION


def identity_get_session_calls(stack) -> float:
    text = requests.get(stack.processes["identity"].url + "/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("ob_service_calls_total{") and 'entrypoint="get_session"' in line)


def test_one_session_cannot_hold_more_than_a_few_event_streams(stack):
    token = stack.login(f"streams-{uuid.uuid4().hex[:8]}@my-company.example")["token"]
    auth = {"Authorization": f"Bearer {token}"}
    other = {"Authorization": f"Bearer {stack.login(f'streams-{uuid.uuid4().hex[:8]}@my-company.example')['token']}"}
    opened = []
    try:
        for _ in range(STREAMS_PER_SESSION):
            r = requests.get(stack.url("/api/events"), headers=auth, stream=True, timeout=10)
            assert r.status_code == 200
            opened.append(r)
        refused = requests.get(stack.url("/api/events"), headers=auth, stream=True, timeout=10)
        assert refused.status_code == 429 and refused.json()["message"] == "Too many requests"
        assert refused.headers["Retry-After"].isdigit() and refused.json()["reference"]
        # another session is not affected
        theirs = requests.get(stack.url("/api/events"), headers=other, stream=True, timeout=10)
        assert theirs.status_code == 200
        theirs.close()
    finally:
        for r in opened:
            r.close()
    # a closed stream gives its slot back (the server notices at its next write: keep-alive ≤ 15 s)
    deadline = time.monotonic() + 25
    while True:
        again = requests.get(stack.url("/api/events"), headers=auth, stream=True, timeout=10)
        again.close()
        if again.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert again.status_code == 200


def test_made_up_tokens_are_answered_without_asking_identity_each_time(stack):
    real = {"Authorization": f"Bearer {stack.login(f'neg-{uuid.uuid4().hex[:8]}@my-company.example')['token']}"}
    assert requests.get(stack.url("/api/me"), headers=real, timeout=10).status_code == 200  # cached now
    bogus = {"Authorization": f"Bearer made-up-{uuid.uuid4().hex}"}
    before = identity_get_session_calls(stack)
    for _ in range(20):
        assert requests.get(stack.url("/api/me"), headers=bogus, timeout=10).status_code == 401
        # ... and the real session stays cached: no question to identity for it either
        assert requests.get(stack.url("/api/me"), headers=real, timeout=10).status_code == 200
    assert identity_get_session_calls(stack) - before == 1  # one question for the made-up token


def readiness_checks(stack) -> float:
    text = requests.get(stack.url("/metrics"), timeout=10).text
    return float(next(line for line in text.splitlines() if line.startswith("ob_readiness_checks_total ")).split()[1])


def test_readiness_is_checked_at_most_once_a_second(stack):
    """Each check opens a broker and a database connection: 200 probes in a burst make at most
    one check per second, not 200."""
    url = stack.url("/readyz")
    before = readiness_checks(stack)
    started = time.monotonic()
    answers = [requests.get(url, timeout=10) for _ in range(200)]
    elapsed = time.monotonic() - started
    assert all(a.status_code == 200 and a.json()["status"] == "ok" for a in answers)
    made = readiness_checks(stack) - before
    assert 1 <= made <= elapsed + 2, f"{made:.0f} dependency checks for 200 probes in {elapsed:.1f} s"
