"""What every nameko service is built from: database + outbox, config, metrics, health.

A service subclasses `BaseService` and declares `db = Database(Base)`. It gets `/healthz`,
`/readyz` (database and broker reachable) and `/metrics` on its own HTTP port, per-entrypoint
metrics, and an outbox relay that publishes its events after each commit.

Services take their entrypoints from here, not from nameko: `rpc`, `command` (an RPC that changes
data, exactly once in effect), `consumes` (an event handler that gets the event typed by its
contract) and `RpcProxy`. They are nameko's, except that a worker that cannot acknowledge its
message or publish its reply because the broker went away logs it and leaves the message to be
delivered again (nameko 2.14 would kill the whole container with every worker in flight), and that
an RPC whose database is unreachable answers `DependencyUnavailable` (503 at the gateway) instead
of an internal error.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, cast

import amqp.exceptions
import eventlet
import kombu.exceptions
import sqlalchemy.exc
from eventlet.queue import Empty, LightQueue
from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.events import EventHandler
from nameko.exceptions import registry as remote_errors
from nameko.exceptions import serialize
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import ReplyListener, Responder, Rpc, RpcConsumer, get_rpc_exchange
from nameko.rpc import RpcProxy as NamekoRpcProxy
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from werkzeug.wrappers import Response

from .config import AppConfig, Env, load_config
from .db import CommandColumns, NestedUnitOfWork, UnitOfWork, make_engine, mapped_model, outbox_model, ping, utcnow
from .messaging import DependencyUnavailable, EventSpec, ServiceError, typed_handler
from .outbox import OutboxRelay
from .tracing import Tracing, instrument_engine

log = logging.getLogger(__name__)

# What a lost broker connection raises: socket errors (ConnectionResetError, BrokenPipeError,
# timeouts), py-amqp's connection and channel errors, kombu's OperationalError (a publish that
# gave up retrying).
BROKER_ERRORS = (OSError, amqp.exceptions.AMQPError, kombu.exceptions.OperationalError)
# What an unreachable (or restarting) database raises through SQLAlchemy: the server is gone
# (OperationalError, InterfaceError), or every pooled connection is busy past pool_timeout.
DATABASE_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError)
# How long a command's answer is kept for a redelivered call (a message can wait in its queue as
# long as every replica of the service is down).
COMMAND_TTL = timedelta(hours=24)
CALL_ID = "ob_call_id"  # worker context key: the RPC message's correlation id
EVENT_RETRY_SECONDS = 1.0  # an event handler whose database is away waits this long before the requeue

COMMAND_REPLAYS = Counter("ob_command_replays_total",
                          "Redelivered command RPCs answered from the stored first answer", ["service", "method"])
UNDELIVERED = Counter("ob_broker_undelivered_total",
                      "Replies or acknowledgements lost to a broker outage (the message is delivered again)",
                      ["service", "what"])


class _QueueConsumer(QueueConsumer):
    """nameko's consumer, whose ack and requeue survive a connection that died under them: the
    broker then still holds the message, unacknowledged, and delivers it again."""

    def ack_message(self, message) -> None:
        try:
            super().ack_message(message)
        except BROKER_ERRORS as exc:
            UNDELIVERED.labels(self.container.service_name, "ack").inc()
            log.warning("could not acknowledge a message (%r): the broker will deliver it again", exc)

    def requeue_message(self, message) -> None:
        try:
            super().requeue_message(message)
        except BROKER_ERRORS as exc:
            UNDELIVERED.labels(self.container.service_name, "requeue").inc()
            log.warning("could not requeue a message (%r): the broker will deliver it again", exc)


class _ReplyPublisher(Publisher):
    """RPC replies without publisher confirms (nameko waits for one per reply by default).

    A reply goes to the caller's own reply queue, which lives only as long as the caller's
    connection: a confirm cannot make it outlive a broker restart, and the loss it would report
    (the broker gone between publish and confirm) is the one in which that queue is gone too. A
    lost reply costs what it costs with a confirm: the caller times out and may call again, and a
    command answers a repeated call from its stored answer (`command`). Waiting for the confirm
    cost ~8 % of the decisions per second and ~0.5 ms of machine CPU per call (issue 16,
    docs/benchmarks.md). Events and the outbox keep their confirms: they are the facts."""

    use_confirms = False


class _Responder(Responder):
    publisher_cls = _ReplyPublisher


class _RpcConsumer(RpcConsumer):
    queue_consumer = _QueueConsumer()

    def handle_result(self, message, result, exc_info):
        try:
            return self._reply(message, result, exc_info)
        except BROKER_ERRORS as exc:
            # The reply could not be published. Requeue the call (if its channel is gone, the broker
            # requeues it anyway): the next delivery answers from the stored answer of a command.
            UNDELIVERED.labels(self.container.service_name, "reply").inc()
            log.warning("could not publish the reply to %s (%r): the call will be delivered again",
                        message.delivery_info.get("routing_key"), exc)
            self.queue_consumer.requeue_message(message)
            return result, exc_info

    def _reply(self, message, result, exc_info):
        """nameko's RpcConsumer.handle_result, with _Responder: reply, then acknowledge the call."""
        config = self.container.config
        responder = _Responder(config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
                               config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
                               ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class _Rpc(Rpc):
    rpc_consumer = _RpcConsumer()

    def unpack_message_headers(self, message) -> dict:
        data = super().unpack_message_headers(message)
        # The caller's correlation id names the call across redeliveries (a worker's own call id
        # is new on each delivery).
        data[CALL_ID] = message.properties.get("correlation_id")
        return data


class _EventHandler(EventHandler):
    queue_consumer = _QueueConsumer()

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is not None and isinstance(exc_info[1], DATABASE_ERRORS) and self.requeue_on_error:
            # the database is away: requeued at once, the event would come straight back; the
            # worker waits a moment first (holding its slot, which also slows the consumer down)
            log.warning("database unavailable in %s: the event is delivered again in %.0f s",
                        self.method_name, EVENT_RETRY_SECONDS)
            eventlet.sleep(EVENT_RETRY_SECONDS)
        return super().handle_result(message, worker_ctx, result, exc_info)


class _ReplyListener(ReplyListener):
    queue_consumer = _QueueConsumer()


class RpcProxy(NamekoRpcProxy):
    """nameko's RpcProxy on the same broker-outage-proof consumer as the entrypoints."""

    rpc_reply_listener = _ReplyListener()


event_handler = _EventHandler.decorator


def consumes(spec: EventSpec, reader: type | None = None, **options: Any) -> Callable:
    """The one way to consume an event, in a service and in the gateway's listener alike:
    `@consumes(USER_ERASED)` on `def on_user_erased(self, event: UserErased)`.

    The payload is validated against the event's contract (`spec.parse`, or `reader`: a narrower
    view, e.g. audit's envelope) and the handler gets the typed object. A malformed payload is
    logged at ERROR once and dropped: requeueing it would loop forever. For a nameko service the
    method is an event handler entrypoint (nameko's options; `requeue_on_error` defaults to True:
    a failure such as a database outage delivers the event again). The gateway's listener uses the
    same parse without the entrypoint (`obcommon.messaging.typed_handler`)."""

    def decorate(fn: Callable) -> Callable:
        return event_handler(spec.service, spec.name, **{"requeue_on_error": True, **options})(
            _same_signature(typed_handler(spec, reader)(fn), fn))

    return decorate


def _same_signature(wrapper: Callable, fn: Callable) -> Callable:
    # nameko checks a call's arguments against the method's signature before running a worker.
    wrapper.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    return wrapper


def rpc(fn):
    """nameko's @rpc with ServiceError declared expected: those are answers, not failures (they
    are logged at INFO, see obcommon.logs). nameko's bare `@rpc` form would drop the argument.
    An unreachable database is answered `DependencyUnavailable` (logged at WARNING)."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DATABASE_ERRORS as exc:
            log.warning("database unavailable in %s: %s", fn.__name__, type(exc).__name__,
                        extra={"error": str(getattr(exc, "orig", exc))[:300]})
            raise DependencyUnavailable("Service unavailable") from None

    return _Rpc.decorator(expected_exceptions=ServiceError)(_same_signature(call, fn))


def command(fn):
    """An RPC that changes data, exactly once in effect: its changes and its answer (result or
    ServiceError) commit in one transaction, recorded under the call's correlation id in the
    service's `commands` table; a redelivered call (the broker lost the reply or the ack, or the
    process died after its commit) gets the recorded answer instead of running again. Every unit
    of work the method opens is a savepoint of that transaction. The service's database is `db`
    and its models include a `CommandColumns` table (`obcommon.db`)."""

    @functools.wraps(fn)
    def run(self, *args, **kwargs):
        return self.db.command(fn.__name__, functools.partial(fn, self, *args, **kwargs))

    return rpc(_same_signature(run, fn))


def _raise_recorded(error: dict) -> None:
    cls = remote_errors.get(error.get("exc_path"))
    if cls is not None and issubclass(cls, ServiceError):
        raise cls(*error.get("exc_args", ()))
    raise ServiceError(str(error.get("value") or ""))

CALLS = Counter(
    "ob_service_calls_total",
    "Entrypoint calls (RPC, event handler, timer, HTTP) by outcome",
    ["service", "entrypoint", "kind", "outcome"],
)
DURATION = Histogram(
    "ob_service_call_duration_seconds",
    "Entrypoint call duration",
    ["service", "entrypoint", "kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_PUBLISHED = Counter("ob_outbox_published_total", "Events published from the outbox", ["service"])
OUTBOX_FAILURES = Counter("ob_outbox_publish_failures_total", "Failed outbox publish attempts", ["service"])


class Db:
    """What a worker sees as `self.db`: units of work on the service's engine. Outside a service
    (tests, scripts), `Db.standalone(database_url, Base, "booking")` gives the same on an engine of
    its own; its events wait in the outbox for the service's relay."""

    def __init__(self, provider: Database, worker_ctx=None):
        self._p = provider  # read at use: other providers may hold a Db before the database is set up
        self._worker_ctx = worker_ctx
        self._command: UnitOfWork | None = None  # the running command's transaction

    @classmethod
    def standalone(cls, database_url: str, base: type[DeclarativeBase], service_name: str, pool_size: int = 2) -> Db:
        return cls(Database(base).bind_engine(database_url, service_name, pool_size))

    def uow(self):
        if self._command is not None:
            return NestedUnitOfWork(self._command)
        p = self._p
        return UnitOfWork(p.Session, p.outbox, p.service_name, on_commit=p.wake_relay)

    @contextlib.contextmanager
    def autocommit(self) -> Iterator[Any]:
        """A connection in autocommit: each statement is a transaction of its own, with one
        consistent snapshot, and no BEGIN, COMMIT or ROLLBACK round trip is sent. For a read that
        needs no transaction (a decision's lock-free preview: half the client's and PostgreSQL's
        CPU of a one-statement read in a unit of work, issue 16) and for a change that is one
        statement (notify's claim of due mail, its "sent" mark). Inside a command: the command's
        transaction."""
        if self._command is not None:
            yield self._command.session
            return
        with self._p.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection

    @property
    def session_factory(self) -> Callable[[], Session]:
        """The service's sessions, for what runs its own transactions on them (the outbox relay)."""
        return self._p.Session

    def outside(self) -> Db:
        """Units of work of their own, outside the running command's transaction: for a read-model
        cache a command fills on the way (another call must not wait for this command's commit)."""
        return Db(self._p)

    def command(self, method: str, run: Callable[[], Any]) -> Any:
        """Run `run` as the command `method` of the current RPC call, once (see `command`)."""
        record = self._p.commands
        call_id = (self._worker_ctx.data.get(CALL_ID) if self._worker_ctx is not None else None)
        if record is None:
            raise RuntimeError(f"{self._p.service_name}: @command needs a CommandColumns table in its models")
        if not call_id or self._command is not None:
            # not an RPC delivery (a timer, a test calling the method directly), or a command called
            # by the running one (its changes are already part of that command's transaction)
            return run()
        call_id = str(call_id)[:100]
        with self.uow() as uow:
            s = uow.session
            # A concurrent delivery of the same call waits here until the first one commits (then
            # finds its answer) or rolls back (then runs it).
            claimed = s.execute(insert(record).values(call_id=call_id, method=method, created_at=utcnow())
                                .on_conflict_do_nothing(index_elements=["call_id"])
                                .returning(record.call_id)).first()
            if not claimed:
                outcome = s.scalar(select(record.outcome).where(record.call_id == call_id)) or {}
                COMMAND_REPLAYS.labels(self._p.service_name, method).inc()
                log.info("call %s of %s delivered again: answering what it committed", call_id, method)
                if "error" in outcome:
                    _raise_recorded(outcome["error"])
                return outcome.get("result")
            self._command = uow
            try:
                result = run()
            except DependencyUnavailable:
                raise  # transient: not an answer to keep (the transaction rolls back)
            except ServiceError as exc:
                error, outcome = exc, {"error": serialize(exc)}
            else:
                # as the RPC reply encodes it (JSON); a value JSON cannot hold is stored as its text
                outcome = {"result": json.loads(json.dumps(result, default=str))}
            finally:
                self._command = None
            s.execute(update(record).where(record.call_id == call_id).values(outcome=outcome))
            uow.commit()
        if "error" in outcome:
            raise error
        return result

    def ping(self) -> None:
        ping(self._p.engine)

    def dispose(self) -> None:
        self._p.engine.dispose()


class Database(DependencyProvider):
    def __init__(self, base: type[DeclarativeBase]):
        self.base = base
        self.outbox = outbox_model(base)
        self.commands = mapped_model(base, CommandColumns)

    def bind_engine(self, database_url: str, service_name: str, pool_size: int) -> Database:
        """The engine, sessions and relay wake-up of `service_name`'s database (no relay runs
        until `start`)."""
        self.service_name = service_name
        self.engine = make_engine(database_url, f"office-booker-{service_name}", pool_size)
        instrument_engine(self.engine)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self._wake: LightQueue = LightQueue()
        self._running = False
        return self

    def setup(self) -> None:
        env = Env.from_environ()
        if not env.database_url:
            raise RuntimeError("DATABASE_URL is not set")
        # One connection per concurrent worker, one for the outbox relay, one spare.
        pool_size = int(self.container.config.get("max_workers", 10)) + 2
        self.bind_engine(env.database_url, self.container.service_name, pool_size)
        self.relay = OutboxRelay(self.Session, self.outbox, env.amqp_uri, self.service_name)

    def start(self) -> None:
        self._running = True
        self.container.spawn_managed_thread(self._relay_loop, identifier="outbox-relay")
        if self.commands is not None:
            self.container.spawn_managed_thread(self._purge_commands_loop, identifier="command-purge")

    def purge_commands(self) -> int:
        """Delete command answers older than COMMAND_TTL; returns how many went."""
        record = self.commands
        if record is None:
            return 0
        with self.Session() as session:
            result = session.execute(delete(record).where(record.created_at < utcnow() - COMMAND_TTL))
            deleted = cast("CursorResult[Any]", result).rowcount
            session.commit()
        return deleted

    def _purge_commands_loop(self) -> None:
        while self._running:
            try:
                self.purge_commands()
            except Exception as exc:  # noqa: BLE001 - database down: next hour
                log.warning("purging command answers failed, will retry: %r", exc)
            eventlet.sleep(3600)

    def stop(self) -> None:
        self._running = False
        self.wake_relay()

    def kill(self) -> None:
        self.stop()

    def wake_relay(self) -> None:
        if self._wake.qsize() == 0:
            self._wake.put_nowait(None)

    def _relay_loop(self) -> None:
        backoff = 0.5
        while self._running:
            try:
                published = self.relay.publish_pending()
                if published:
                    OUTBOX_PUBLISHED.labels(self.service_name).inc(published)
                backoff = 0.5
                timeout = 1.0
            except Exception as exc:  # broker or database down: keep the rows, retry later
                OUTBOX_FAILURES.labels(self.service_name).inc()
                log.warning("outbox publish failed, will retry: %r", exc)
                timeout = backoff
                backoff = min(backoff * 2, 10.0)
            try:
                self._wake.get(timeout=timeout)
            except Empty:
                pass
        self.relay.publisher.close()

    def get_dependency(self, worker_ctx) -> Db:
        return Db(self, worker_ctx)


class Config(DependencyProvider):
    """The validated application config (SPEC §7) and environment, loaded once per process."""

    def setup(self) -> None:
        self.config = load_config()
        self.env = Env.from_environ()

    def get_dependency(self, worker_ctx) -> AppConfig:
        return self.config


class Metrics(DependencyProvider):
    """Count and time every entrypoint; ServiceErrors count as `rejected`, others as `error`."""

    def worker_setup(self, worker_ctx) -> None:
        worker_ctx.data["_ob_started"] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        started = worker_ctx.data.get("_ob_started")
        service = self.container.service_name
        entry = worker_ctx.entrypoint
        kind = type(entry).__name__
        if exc_info is None:
            outcome = "ok"
        elif isinstance(exc_info[1], ServiceError):
            outcome = "rejected"
        else:
            outcome = "error"
        CALLS.labels(service, entry.method_name, kind, outcome).inc()
        if started is not None:
            DURATION.labels(service, entry.method_name, kind).observe(time.perf_counter() - started)


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class BaseService:
    """Health, readiness and metrics on the service's own HTTP port (see README); a trace span
    per entrypoint (obcommon.tracing)."""

    db: Db  # each service declares `db = Database(Base)`; a worker sees a Db
    metrics = Metrics()
    tracing = Tracing()
    settings = Config()

    @http("GET", "/healthz")
    def healthz(self, request) -> Response:
        return _json(200, {"status": "ok"})

    @http("GET", "/readyz")
    def readyz(self, request) -> Response:
        checks = {}
        try:
            with eventlet.Timeout(3):
                self.db.ping()
            checks["database"] = "ok"
        except BaseException as exc:  # noqa: BLE001 - report, never crash the probe
            checks["database"] = f"unavailable: {type(exc).__name__}"
        try:
            with Connection(self.settings_env_amqp(), connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"unavailable: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return _json(200 if ok else 503, {"status": "ok" if ok else "unavailable", "checks": checks})

    @http("GET", "/metrics")
    def metrics_endpoint(self, request) -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    def settings_env_amqp(self) -> str:
        return Env.from_environ().amqp_uri
