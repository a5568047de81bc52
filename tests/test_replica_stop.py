"""A service replica that gets SIGTERM while calls stream in: the calls it already took are
answered, the ones it did not take go to the other replica at once. No call waits for the
stopping process (issue 10: 503s after the gateway's 10 s RPC timeout during rolling restarts)."""
import signal
import time

from obcommon.migrate import upgrade
from tests.support.infra import fresh_database, fresh_vhost
from tests.support.redeliver import RawRpc
from tests.support.stack import Stack

PAUSE = 0.5      # each call holds a worker this long
RATE = 15        # calls per second (one replica of 10 workers serves up to 20/s at 0.5 s)
BEFORE, AFTER = 3.0, 6.0  # seconds of calls before and after the SIGTERM


def test_a_stopping_replica_holds_no_call_back(database_server, amqp_server, tmp_path):
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        upgrade(db_url, ["booking"])
        stack = Stack(amqp_uri, db_url, tmp_path)
        paused = "tests.support.paused_booking:PausedBooking"
        old = stack.launch("booking", key="booking-old", service_class=paused)
        stack.launch("booking", key="booking-new", service_class=paused)
        stack.wait_ready(60)
        raw = RawRpc(amqp_uri)
        sent: dict[str, float] = {}
        answered: dict[str, float] = {}
        errors: list[str] = []
        try:
            start = time.monotonic()
            n = 0
            stopped_at = exited_at = None
            while time.monotonic() - start < BEFORE + AFTER:
                now = time.monotonic()
                if stopped_at is None and now - start >= BEFORE:
                    old.popen.send_signal(signal.SIGTERM)
                    stopped_at = now
                while n < (now - start) * RATE:
                    sent[raw.send("booking", "pause", PAUSE)] = time.monotonic()
                    n += 1
                _drain(raw, answered, errors, 0.005)
                if stopped_at is not None and exited_at is None and old.popen.poll() is not None:
                    exited_at = time.monotonic()
            deadline = time.monotonic() + 30
            while len(answered) < len(sent) and time.monotonic() < deadline:
                _drain(raw, answered, errors, 0.1)
            exit_status = old.popen.wait(timeout=30)
            exited_after = (exited_at or time.monotonic()) - stopped_at
        finally:
            raw.close()
            stack.stop()
    waits = sorted((answered[c] - sent[c], sent[c] - stopped_at) for c in answered)
    slow = [f"{w:.1f} s (sent {at:+.1f} s from the SIGTERM)" for w, at in waits if w > PAUSE + 2]
    print(f"\n{len(sent)} calls, {len(answered)} answered; longest {waits[-1][0]:.2f} s; the old replica "
          f"exited {exit_status} {exited_after:.1f} s after SIGTERM; slow: {slow[:10]}")
    assert not errors, errors[:3]
    assert len(answered) == len(sent), f"{len(sent) - len(answered)} calls never answered"
    assert exit_status == 0
    assert not slow, f"{len(slow)} calls waited over {PAUSE + 2} s: {slow[:10]}"


def _drain(raw: RawRpc, answered: dict, errors: list, timeout: float) -> None:
    try:
        raw.conn.drain_events(timeout=timeout)
    except TimeoutError:
        pass
    now = time.monotonic()
    for call_id, bodies in list(raw._inbox.items()):
        for body in bodies:
            if body.get("error"):
                errors.append(f"{call_id}: {body['error']}")
            answered.setdefault(call_id, now)
        bodies.clear()
