"""Messaging contracts (the outbox relay is `obcommon.outbox`).

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

from kombu import Exchange
from nameko.exceptions import deserialize_to_instance
from pydantic import BaseModel, ConfigDict, ValidationError

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


def typed_handler(spec: EventSpec, reader: type[EventPayload] | None = None) -> Any:
    """`handler(self, event)` called with the delivered payload parsed by `spec.parse` (a
    malformed one is dropped: the handler is not called); the spec is at `handler.event_spec`.
    The gateway's listener uses it as is; services through `obcommon.service.consumes`, which
    makes it a nameko entrypoint."""

    def decorate(fn: Any) -> Any:
        @functools.wraps(fn)
        def handle(self: Any, payload: Any) -> Any:
            event = spec.parse(payload, reader)
            if event is None:
                return None
            return fn(self, event)

        handle.event_spec = spec  # type: ignore[attr-defined]
        return handle

    return decorate


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
