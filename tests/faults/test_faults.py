"""Fault injection: the system keeps its promises when a part of it fails under load.

Each scenario runs 12 clients booking and cancelling for ~9 s (retrying a request with the same
Idempotency-Key on 5xx or a connection error) and injects one fault 3 s in. Then it checks
(`checks.problems`, `Rig.run`): every 201 booking exists exactly once and nothing was booked
without a 201; counters equal a recount and no office-day is above quota; one audit record per
change and one confirmation mail per booking; outboxes empty; no process exited unless the
scenario made it; no request failed for good, no 500; the first 2xx after the fault within 10 s.
The figures of every scenario are printed as a table (and kept in docs/reliability.md).

    ./ob test tests/faults -q -s
"""
from __future__ import annotations

import time

from . import broker
from .queues import QueueScenario
from .rig import Rig
from .stall import booking_decisions_held

OUTAGE_SECONDS = 3.0
HOLD_SECONDS = 1.0  # booking's workers held in flight before a broker fault
GATEWAY_DRAIN_SECONDS = 2.0  # the gateway's default GATEWAY_DRAIN_SECONDS


def assert_no_problems(figures) -> None:
    assert not figures.problems, f"{figures.scenario}: {len(figures.problems)} problems:\n- " + "\n- ".join(
        figures.problems[:40])


def test_broker_stop_and_start(rig: Rig):
    """A clean broker stop while booking's workers are in flight: they finish with the broker gone."""
    def fault():
        with booking_decisions_held(rig.stack.database_url):
            time.sleep(HOLD_SECONDS)  # the clients' bookings and cancellations wait in booking
            broker.stop(rig.amqp_uri)
        time.sleep(OUTAGE_SECONDS)
        broker.start(rig.amqp_uri)

    assert_no_problems(rig.run("broker stop/start", fault))


def test_broker_crash_and_restart(rig: Rig):
    """The same with the broker's VM SIGKILLed (no AMQP goodbye) and started again."""
    def fault():
        with booking_decisions_held(rig.stack.database_url):
            time.sleep(HOLD_SECONDS)
            broker.kill(rig.amqp_uri)
        time.sleep(OUTAGE_SECONDS)
        broker.start_killed(rig.amqp_uri, str(rig.stack.workdir / "rabbitmq-restarted.log"))

    assert_no_problems(rig.run("broker SIGKILL/restart", fault))


def test_sigkill_booking(rig: Rig):
    assert_no_problems(rig.run("SIGKILL booking", lambda: rig.supervisor.kill("booking")))


def test_sigkill_audit(rig: Rig):
    assert_no_problems(rig.run("SIGKILL audit", lambda: rig.supervisor.kill("audit")))


def test_sigkill_notify(rig: Rig):
    # A kill between the SMTP server's "250" and the commit of sent_at sends that mail again, with
    # the same Message-ID (so mail clients show it once): allowed here, and only here.
    assert_no_problems(rig.run("SIGKILL notify", lambda: rig.supervisor.kill("notify"),
                               same_message_id_duplicates=True))


def test_sigkill_gateway(rig: Rig):
    assert_no_problems(rig.run("SIGKILL gateway", lambda: rig.supervisor.kill("gateway")))


def test_postgres_immediate_stop_and_start(rig: Rig):
    def fault():
        rig.pg.stop("immediate")  # a crash: connections cut, no checkpoint
        time.sleep(OUTAGE_SECONDS)
        rig.pg.start()

    assert_no_problems(rig.run("PostgreSQL immediate stop/start", fault))


def test_rolling_restart_loses_nothing(rig: Rig):
    """SIGTERM one process at a time, each replaced (and ready) before the next: no client may
    see a 5xx or a connection error at all, not even one it would retry. A process must stop by
    itself (exit 0) within the 30 s grace period."""
    stops = []

    def fault():
        # the next replacement starts while the old process is still stopping
        stopping = [rig.supervisor.roll(key) for key in ("identity", "offices", "booking", "notify", "audit")]
        stopping.append(rig.supervisor.roll("gateway"))
        # Requests the old gateway took during its drain are still in flight when it stops accepting.
        with booking_decisions_held(rig.stack.database_url):
            time.sleep(GATEWAY_DRAIN_SECONDS + 1.5)
        for s in stopping:
            status, seconds = s.wait()
            stops.append(f"{s.key} exited {status} after {seconds:.1f} s")

    figures = rig.run("rolling restart (SIGTERM)", fault, fault_at=2.0, measure_recovery=False)
    print("rolling restart: " + "; ".join(stops))
    print("failed attempts (first and last): " + "; ".join(figures.error_samples))
    if figures.server_errors or figures.connection_errors:
        figures.problems.append(f"{figures.server_errors} 5xx answers and {figures.connection_errors} connection "
                                f"errors during a rolling restart; want none. E.g. {figures.error_samples}")
    # A graceful stop exits 0 by itself: -15 is SIGTERM's default action (in-flight work cut off),
    # -9 our SIGKILL at the end of the grace period.
    abrupt = [s for s in stops if not s.split(" exited ")[1].startswith("0 ")]
    if abrupt:
        figures.problems.append(f"not a graceful stop on SIGTERM: {abrupt}")
    assert_no_problems(figures)


# ------------------------------------------------------------------ waitlist promotions and a ballot draw


def test_broker_restart_during_promotions_and_a_draw(rig: Rig):
    """SPEC §12, §13: the broker goes away while freed places are promoted and a day is drawn."""
    def fault():
        broker.stop(rig.amqp_uri)
        time.sleep(OUTAGE_SECONDS)
        broker.start(rig.amqp_uri)

    problems = QueueScenario(rig).run(fault)
    assert not problems, "\n- ".join(["promotions and a draw across a broker restart:", *problems])


def test_sigkill_booking_during_promotions_and_a_draw(rig: Rig):
    problems = QueueScenario(rig).run(lambda: rig.supervisor.kill("booking"))
    assert not problems, "\n- ".join(["promotions and a draw across a booking SIGKILL:", *problems])
