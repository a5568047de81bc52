"""Outages under the real booking process, broker and database. The broker or the
database "goes away" through a proxy only booking uses (its connections reset, new ones refused),
so the test's own connections and every other test's servers stay up.

- Broker away while a cancellation is in flight: the worker commits, cannot reply nor acknowledge;
  the process stays up, reports the outage on /readyz, reconnects, and answers the redelivered
  call with the success it committed (not 404).
- Database away: calls answer DependencyUnavailable (503 at the gateway), not an internal error.
- SIGTERM: the call in flight finishes and is answered, then the process exits 0."""
import signal
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests

from obcommon.messaging import DependencyUnavailable
from obcommon.migrate import upgrade
from tests.support.infra import fresh_database, fresh_vhost
from tests.support.redeliver import RawRpc
from tests.support.stack import Stack
from tests.support.tcpproxy import TcpProxy


@pytest.fixture
def booking(database_server, amqp_server, tmp_path):
    """(process, broker proxy, database proxy, RPC client, database URL) of a booking service."""
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        proxy, proxied_uri = TcpProxy.for_amqp(amqp_uri)
        db_proxy, proxied_db = TcpProxy.for_url(db_url, default_port=5432)
        upgrade(db_url, ["booking"])
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("INSERT INTO booking.offices (id, name, quota, parking_quota, timezone, retired) "
                         "VALUES ('alpha', 'Office Alpha', 10, 5, 'Europe/London', false)")
        stack = Stack(proxied_uri, proxied_db, tmp_path)
        proc = stack.launch("booking")
        stack.wait_ready(60)
        raw = RawRpc(amqp_uri)  # the test's own connections do not go through the proxies
        try:
            yield proc, proxy, db_proxy, raw, db_url
        finally:
            raw.close()
            proc.stop()
            proxy.close()
            db_proxy.close()


def readyz(proc) -> int:
    try:
        return requests.get(proc.url + "/readyz", timeout=10).status_code
    except requests.RequestException:
        return 0


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_finishing_while_the_broker_is_away_is_answered_after_it_returns(booking):
    proc, proxy, _, raw, db_url = booking
    email = f"outage-{uuid.uuid4().hex[:8]}@my-company.example"
    day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=2)).isoformat()
    created = raw.call("booking", "create_booking", {"user": email, "office": "alpha", "date": day}, email)
    caller = {"email": email, "system_admin": False, "offices": []}

    with psycopg.connect(db_url) as blocker:  # hold the booking's row: the cancel waits for it
        blocker.execute("SELECT 1 FROM booking.bookings WHERE id = %s FOR UPDATE", (created["id"],))
        call = raw.send("booking", "cancel_booking", created["id"], caller)
        wait(lambda: psycopg.connect(db_url, autocommit=True).execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0] > 0,
            10, "the cancel to wait for the row lock")
        proxy.cut()
        blocker.rollback()  # the worker commits its cancel now, with the broker away

    wait(lambda: readyz(proc) == 503, 20, "readiness to report the outage")
    with psycopg.connect(db_url) as conn:
        wait(lambda: conn.execute("SELECT status FROM booking.bookings WHERE id = %s",
                                  (created["id"],)).fetchone()[0] == "cancelled", 10, "the cancel to commit")
    time.sleep(3)  # the worker's reply and ack fail meanwhile
    assert proc.popen.poll() is None, "booking exited during the outage:\n" + proc.log_tail()

    proxy.restore()
    reply = raw.reply(call, timeout=60)  # the broker delivers the call again; booking answers it
    assert reply["error"] is None, reply["error"]
    assert reply["result"] == {"office": "alpha", "date": day}
    assert proc.popen.poll() is None
    wait(lambda: readyz(proc) == 200, 30, "readiness after the outage")
    # and it keeps working
    assert raw.call("booking", "get_booking", created["id"])["status"] == "cancelled"
    log = proc.log_path.read_text()
    assert "could not" in log and "delivered again" in log


def test_sigterm_lets_the_call_in_flight_finish_and_answer(booking):
    proc, proxy, _, raw, db_url = booking
    email = f"sigterm-{uuid.uuid4().hex[:8]}@my-company.example"
    day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=3)).isoformat()
    created = raw.call("booking", "create_booking", {"user": email, "office": "alpha", "date": day}, email)
    with psycopg.connect(db_url) as blocker:
        blocker.execute("SELECT 1 FROM booking.bookings WHERE id = %s FOR UPDATE", (created["id"],))
        call = raw.send("booking", "cancel_booking", created["id"], {"email": email, "system_admin": False,
                                                                     "offices": []})
        wait(lambda: psycopg.connect(db_url, autocommit=True).execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").fetchone()[0] > 0,
            10, "the cancel to wait for the row lock")
        proc.popen.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert proc.popen.poll() is None, "exited with a worker in flight"
        blocker.rollback()
    reply = raw.reply(call, timeout=20)
    assert reply["error"] is None and reply["result"] == {"office": "alpha", "date": day}
    assert proc.popen.wait(timeout=20) == 0


def test_database_away_is_dependency_unavailable_then_it_works_again(booking):
    proc, _, db_proxy, raw, db_url = booking
    email = f"dbdown-{uuid.uuid4().hex[:8]}@my-company.example"
    day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=4)).isoformat()
    request = {"user": email, "office": "alpha", "date": day}
    db_proxy.cut()
    with pytest.raises(DependencyUnavailable):
        raw.call("booking", "create_booking", request, email, wait=30)
    with pytest.raises(DependencyUnavailable):
        raw.call("booking", "list_bookings", user=email, wait=30)
    assert readyz(proc) == 503
    db_proxy.restore()
    created = raw.call("booking", "create_booking", request, email, wait=30)
    assert created["status"] == "active" and proc.popen.poll() is None
    wait(lambda: readyz(proc) == 200, 30, "readiness after the outage")


def test_the_gateway_reports_not_ready_before_it_stops_listening(database_server, amqp_server, tmp_path):
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        stack = Stack(amqp_uri, db_url, tmp_path, extra_env={"GATEWAY_DRAIN_SECONDS": "2"})
        gateway = stack.launch("gateway")
        try:
            stack.wait_ready(60)
            started = time.monotonic()
            gateway.popen.send_signal(signal.SIGTERM)
            wait(lambda: readyz(gateway) == 503, 2, "/readyz to answer 503 while draining")
            assert requests.get(gateway.url + "/healthz", timeout=5).status_code == 200  # still listening
            assert gateway.popen.wait(timeout=20) == 0
            assert time.monotonic() - started >= 2
        finally:
            gateway.stop()


def test_an_event_that_arrives_while_the_database_is_away_is_applied_once_it_is_back(booking):
    from obcommon.messaging import event_exchange
    from services.offices.contract import OFFICE_CREATED

    proc, _, db_proxy, raw, db_url = booking
    office = {"id": "gamma", "name": "Office Gamma", "quota": 3, "parking_quota": 1, "timezone": "Europe/Paris",
              "retired": False}
    payload = OFFICE_CREATED.build(actor="admin@my-company.example", entity="office", entity_id="gamma",
                                   office="gamma", after=office)
    db_proxy.cut()
    with raw.conn.Producer() as producer:
        producer.publish(payload, exchange=event_exchange("offices"), routing_key="office_created",
                         serializer="json", delivery_mode=2)
    wait(lambda: "the event is delivered again" in proc.log_path.read_text(), 15, "the handler to meet the outage")
    assert proc.popen.poll() is None
    db_proxy.restore()
    with psycopg.connect(db_url, autocommit=True) as conn:
        wait(lambda: conn.execute("SELECT name FROM booking.offices WHERE id = 'gamma'").fetchone() == ("Office Gamma",),
             30, "the office to reach booking's read model")


def test_the_outbox_relay_publishes_again_after_a_broker_outage(booking):
    proc, proxy, _, raw, db_url = booking
    email = f"relay-{uuid.uuid4().hex[:8]}@my-company.example"
    day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=5)).isoformat()
    raw.call("booking", "create_booking", {"user": email, "office": "alpha", "date": day}, email)  # relay connected
    with psycopg.connect(db_url, autocommit=True) as conn:
        outbox = lambda: conn.execute("SELECT count(*) FROM booking.outbox").fetchone()[0]  # noqa: E731
        wait(lambda: outbox() == 0, 10, "the first event to be published")
        proxy.cut()
        time.sleep(1)
        conn.execute("INSERT INTO booking.outbox (exchange, routing_key, payload, created_at) VALUES "
                     "('booking.events', 'test_event', '{}'::jsonb, now())")  # an event written meanwhile
        time.sleep(2)
        assert outbox() == 1  # it waits
        proxy.restore()
        wait(lambda: outbox() == 0, 30, "the relay to publish after the outage")
    assert proc.popen.poll() is None
