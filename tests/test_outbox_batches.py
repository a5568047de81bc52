"""The outbox relay's publisher (obcommon.messaging.ConfirmedBatches), against the real broker:
a batch is confirmed by the broker as a whole, in order, with its headers; a broker that goes
away mid-life fails the batch (the relay keeps the rows and tries again) and the next batch
reconnects."""
import pytest
from kombu import Connection, Exchange, Queue

from obcommon.messaging import ConfirmedBatches
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
