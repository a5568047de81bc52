"""Messaging contracts and the outbox relay.

Contracts: every service declares, in its `contract.py`, the RPC methods it offers, the events it
emits (an `EventSpec` each: name plus a pydantic payload model) and its error types (subclasses of
`ServiceError`). The gateway and the other services import those modules; nothing else is shared.

Events are facts about changed data. Every payload carries the audit envelope (`event_id`, `at`,
`actor`, `entity`, `entity_id`, `office`, `before`, `after`); consumers de-duplicate on
`event_id`, because the outbox guarantees at-least-once delivery, not exactly-once.
"""
from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Exchange, Producer
from nameko.exceptions import deserialize_to_instance
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

log = logging.getLogger(__name__)


class EventPayload(BaseModel):
    """The envelope every event carries; specific events add fields."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    type: str
    service: str
    at: str
    actor: str | None = None
    entity: str
    entity_id: str
    office: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True)
class EventSpec:
    service: str
    name: str
    model: type[EventPayload] = EventPayload
    description: str = ""

    def build(self, **fields: Any) -> dict:
        fields.setdefault("event_id", uuid.uuid4().hex)
        # always with microseconds, so `at` strings sort in time order (gateway/live.py relies on it)
        fields.setdefault("at", datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"))
        payload = self.model.model_validate({"type": self.name, "service": self.service, **fields})
        return payload.model_dump(mode="json")

    @property
    def exchange(self) -> str:
        return f"{self.service}.events"

    def parse(self, payload: Any, reader: type[EventPayload] | None = None) -> EventPayload | None:
        """A delivered payload as a typed object of this event's contract (or of `reader`, a
        consumer's narrower view of it, e.g. audit's envelope), or None when it does not match:
        logged at ERROR once and to be dropped, since delivering it again cannot fix it. Fields
        the reader does not know are ignored, so a producer may add fields (tolerant reader)."""
        event_id = payload.get("event_id") if isinstance(payload, dict) else None
        try:
            event = _tolerant(reader or self.model).model_validate(payload)
        except ValidationError as exc:
            problem = "bad fields: " + ", ".join(".".join(map(str, e["loc"])) or "(payload)" for e in exc.errors())
        else:
            if (event.service, event.type) == (self.service, self.name):
                return event
            problem = f"it says it is {event.service}.{event.type}"
        log.error("dropping malformed %s.%s event %s (%s)", self.service, self.name, event_id, problem,
                  extra={"event_id": event_id})
        return None


@functools.cache
def _tolerant(model: type[EventPayload]) -> type[EventPayload]:
    """`model` reading extra fields by ignoring them (producers validate strictly, readers not)."""
    if model.model_config.get("extra") == "ignore":
        return model
    return type(model.__name__, (model,), {"model_config": ConfigDict(extra="ignore"), "__module__": model.__module__})


@dataclass(frozen=True)
class RpcMethod:
    name: str
    signature: str
    description: str


@dataclass(frozen=True)
class Contract:
    service: str
    rpc: list[RpcMethod]
    events: list[EventSpec]
    errors: list[type] = field(default_factory=list)


class ServiceError(Exception):
    """Base of every error a service raises on purpose. `message` is safe to show to users;
    `code` is the stable snake_case kind the gateway puts in the error body (SPEC §18): every
    error a contract lists sets its own (gateway/errors.py lists them all)."""

    code = "internal_error"

    def __init__(self, message: str = "", *args: Any):
        super().__init__(message, *args)
        self.message = message


def remote_error(cls):
    """Register an error class so nameko RPC clients re-raise it as itself, not RemoteError."""
    return deserialize_to_instance(cls)


@remote_error
class DependencyUnavailable(ServiceError):
    """Something the service needs (its database, another service) is unreachable: try again
    later (503 at the gateway)."""

    code = "service_unavailable"


# --------------------------------------------------------------------------------------------
# Outbox relay


def event_exchange(service: str) -> Exchange:
    # Exactly nameko's declaration (durable, not auto-delete), so nameko event handlers and the
    # gateway's listener bind to the same exchange; a different flag is a channel error.
    return Exchange(f"{service}.events", type="topic", durable=True, auto_delete=False)


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
            with self.session_factory() as session:  # type: Session
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


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll `predicate` until it returns a truthy value (used by start-up and tests)."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}" + (f": {last_exc!r}" if last_exc else ""))
