"""The outbox relay: a service's events, written in the same transaction as its change, published
to the broker after the commit with publisher confirms (a batch per confirm wait).

Apart from `obcommon.messaging` (the contracts), so that what only reads the contracts (the
gateway) does not load SQLAlchemy."""
from __future__ import annotations

import time
from typing import Any

from kombu import Connection, Exchange, Producer
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from .messaging import event_exchange


class ConfirmedBatches:
    """Publishes a batch of messages on one channel in confirm mode and waits once for the
    broker's confirms of them all, instead of one round trip (and one pooled producer) per
    message. Any failure (a nack, no confirm within `timeout`, a dead connection) raises and drops
    the connection; the next batch opens a new one. Not shared between green threads."""

    def __init__(self, amqp_uri: str, timeout: float = 10.0):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self._conn: Connection | None = None  # with its confirm-mode channel's producer
        self._producer: Producer
        self._sent = 0  # publishes on the current channel (its delivery tags are 1 … _sent)
        self._unconfirmed: set[int] = set()
        self._nacked = False
        self._declared: set[str] = set()

    def _open(self) -> tuple[Connection, Producer]:
        if self._conn is None:
            conn = Connection(self.amqp_uri, connect_timeout=5)
            try:
                channel = conn.channel()
                channel.confirm_select()
                channel.events["basic_ack"].add(self._on_ack)
                channel.events["basic_nack"].add(self._on_nack)
            except Exception:
                conn.release()
                raise
            self._conn, self._producer = conn, Producer(channel, serializer="json")
            self._sent, self._nacked, self._unconfirmed, self._declared = 0, False, set(), set()
        return self._conn, self._producer

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._unconfirmed -= {t for t in self._unconfirmed if t <= tag} if multiple else {tag}

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked = True

    def publish(self, messages: list[tuple[dict, Exchange, str, dict]]) -> None:
        """Publish (payload, exchange, routing key, headers) each, persistent; returns once the
        broker confirmed every one."""
        try:
            conn, producer = self._open()
            for payload, exchange, routing_key, headers in messages:
                if exchange.name not in self._declared:
                    exchange(producer.channel).declare()
                    self._declared.add(exchange.name)
                producer.publish(payload, exchange=exchange, routing_key=routing_key, headers=headers,
                                 delivery_mode=2, mandatory=False, retry=False)
                self._sent += 1
                self._unconfirmed.add(self._sent)
            deadline = time.monotonic() + self.timeout
            while self._unconfirmed and not self._nacked:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self._unconfirmed)} messages not confirmed within {self.timeout} s")
                conn.drain_events(timeout=remaining)
            if self._nacked:
                raise RuntimeError("the broker refused (nacked) a message")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - already dead
                pass


class OutboxRelay:
    """Publishes a service's outbox rows with publisher confirms (a batch per confirm wait), then
    deletes them.

    Several processes of one service may run: `FOR UPDATE SKIP LOCKED` gives each row to one
    relay. A crash between publish and delete re-publishes the row later (at-least-once); a
    broker outage leaves rows in the table until it is back (nothing is lost).
    """

    batch = 200

    def __init__(self, session_factory: sessionmaker, outbox_model: Any, amqp_uri: str, service: str):
        self.session_factory = session_factory
        self.model = outbox_model
        self.service = service
        self.exchange = event_exchange(service)
        self.publisher = ConfirmedBatches(amqp_uri)
        table = outbox_model.__table__.fullname
        # plain SQL: it runs after every commit that emitted (tools/bench_relay)
        self._take = text(
            f"WITH picked AS (SELECT id FROM {table} ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED)"
            f" DELETE FROM {table} AS o USING picked WHERE o.id = picked.id"
            " RETURNING o.id, o.routing_key, o.payload, o.headers")

    def publish_pending(self) -> int:
        """Publish what is waiting; returns how many rows were published.

        One statement takes a batch: it deletes the oldest rows no other relay holds and returns
        them; they are published, then the deletion commits. A failed publish rolls it back, so
        the rows are still there for the next pass."""
        total = 0
        while True:
            with self.session_factory() as session:
                rows = sorted(session.execute(self._take, {"n": self.batch}).all())
                if not rows:
                    session.commit()  # (deleted nothing; psycopg's rollback would forget its prepared statements)
                    return total
                self.publisher.publish([
                    (payload, self.exchange, routing_key,
                     {"nameko.call_id_stack": [f"{self.service}.outbox.{row_id}"],
                      # nameko hands `nameko.*` headers to handlers as context data
                      **{f"nameko.{k}": v for k, v in (headers or {}).items()}})
                    for row_id, routing_key, payload, headers in rows])
                session.commit()
                total += len(rows)
            if len(rows) < self.batch:
                return total
