"""The outbox relay's publisher (obcommon.outbox.ConfirmedBatches), against the real broker:
a batch is confirmed by the broker as a whole, in order, with its headers; a broker that goes
away mid-life fails the batch (the relay keeps the rows and tries again) and the next batch
reconnects. The relay (obcommon.outbox.OutboxRelay) over a real outbox: two relays publish
each row once; a failed publish leaves the rows for the next pass."""
import pytest
from kombu import Connection, Exchange, Queue

from obcommon.outbox import ConfirmedBatches
from tests.support.infra import fresh_vhost
from tests.support.tcpproxy import TcpProxy


@pytest.fixture
def broker(amqp_server):
    with fresh_vhost(amqp_server) as amqp_uri:
        exchange = Exchange("batch-test.events", type="topic", durable=True)
        with Connection(amqp_uri) as conn:
            queue = Queue("batch-test", exchange=exchange, routing_key="#", durable=True)
            queue(conn.default_channel).declare()
            yield amqp_uri, exchange, conn, queue


def received(conn, queue) -> list:
    got = []
    with conn.SimpleQueue(queue) as q:
        while True:
            try:
                message = q.get(timeout=1)
            except q.Empty:
                return got
            got.append((message.payload, message.headers, message.properties.get("delivery_mode")))
            message.ack()


def test_a_batch_arrives_whole_in_order_with_its_headers(broker):
    amqp_uri, exchange, conn, queue = broker
    publisher = ConfirmedBatches(amqp_uri)
    try:
        publisher.publish([({"n": i}, exchange, "thing.happened", {"nameko.call_id_stack": [f"x.{i}"]})
                           for i in range(50)])
        publisher.publish([({"n": 50}, exchange, "thing.happened", {})])  # same connection, later tags
    finally:
        publisher.close()
    got = received(conn, queue)
    assert [p["n"] for p, _, _ in got] == list(range(51))
    assert got[3][1]["nameko.call_id_stack"] == ["x.3"] and {d for _, _, d in got} == {2}  # persistent


def test_a_broker_that_went_away_fails_the_batch_then_the_next_one_reconnects(broker):
    amqp_uri, exchange, conn, queue = broker
    proxy, proxied = TcpProxy.for_amqp(amqp_uri)
    publisher = ConfirmedBatches(proxied, timeout=3)
    try:
        publisher.publish([({"n": 1}, exchange, "a", {})])
        proxy.cut()
        with pytest.raises(Exception):  # noqa: B017 - a connection error or no confirm in time
            publisher.publish([({"n": 2}, exchange, "a", {})])
        proxy.restore()
        publisher.publish([({"n": 3}, exchange, "a", {})])
    finally:
        publisher.close()
        proxy.close()
    assert [p["n"] for p, _, _ in received(conn, queue)] in ([1, 3], [1, 2, 3])  # 2: sent before the cut was seen


# ---------------------------------------------------------------- the relay over a real outbox

@pytest.fixture
def outbox(database_url, amqp_server):
    """booking's outbox table in a fresh database, and a queue bound to booking's events."""
    from obcommon.migrate import upgrade
    from obcommon.service import Db
    from services.booking.models import Base

    upgrade(database_url, ["booking"])
    db = Db.standalone(database_url, Base, "booking")
    with fresh_vhost(amqp_server) as amqp_uri, Connection(amqp_uri) as conn:
        queue = Queue("relay-test", exchange=Exchange("booking.events", type="topic", durable=True),
                      routing_key="#", durable=True)
        queue(conn.default_channel).declare()
        yield db, amqp_uri, conn, queue
    db.dispose()


def _fill(db, n: int) -> None:
    from sqlalchemy import text

    with db.session_factory() as session:
        session.execute(text("INSERT INTO booking.outbox (exchange, routing_key, payload, headers, created_at)"
                             " SELECT 'booking.events', 'thing', jsonb_build_object('n', i), NULL, now()"
                             " FROM generate_series(1, :n) AS i"), {"n": n})
        session.commit()


def _left(db) -> int:
    from sqlalchemy import text

    with db.session_factory() as session:
        return session.execute(text("SELECT count(*) FROM booking.outbox")).scalar_one()


def test_two_relays_publish_each_row_once(outbox):
    import threading

    from obcommon.outbox import OutboxRelay
    from services.booking.models import OutboxMessage

    db, amqp_uri, conn, queue = outbox
    relays = [OutboxRelay(db.session_factory, OutboxMessage, amqp_uri, "booking") for _ in range(2)]
    for relay in relays:
        relay.batch = 7  # many passes, so the two take turns on the table
    _fill(db, 300)
    counts: list[int] = []
    threads = [threading.Thread(target=lambda r=relay: counts.append(r.publish_pending())) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for relay in relays:
        relay.publisher.close()
    got = [payload["n"] for payload, _, _ in received(conn, queue)]
    assert sorted(got) == list(range(1, 301)) and sum(counts) == 300  # each row once
    assert _left(db) == 0


def test_a_failed_publish_leaves_the_rows_for_the_next_pass(outbox):
    from obcommon.outbox import OutboxRelay
    from services.booking.models import OutboxMessage

    db, amqp_uri, conn, queue = outbox
    proxy, proxied = TcpProxy.for_amqp(amqp_uri)
    relay = OutboxRelay(db.session_factory, OutboxMessage, proxied, "booking")
    relay.publisher.timeout = 3
    try:
        _fill(db, 5)
        proxy.cut()
        with pytest.raises(Exception):  # noqa: B017 - a connection error or no confirm in time
            relay.publish_pending()
        assert _left(db) == 5  # the deletion rolled back with the failed publish
        proxy.restore()
        assert relay.publish_pending() == 5
    finally:
        relay.publisher.close()
        proxy.close()
    got = [payload["n"] for payload, _, _ in received(conn, queue)]
    assert got[-5:] == [1, 2, 3, 4, 5] and _left(db) == 0
