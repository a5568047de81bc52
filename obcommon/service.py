"""What every nameko service is built from: database + outbox, config, metrics, health.

A service subclasses `BaseService` and declares `db = Database(Base)`. It gets `/healthz`,
`/readyz` (database and broker reachable) and `/metrics` on its own HTTP port, per-entrypoint
metrics, and an outbox relay that publishes its events after each commit.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

import eventlet
from eventlet.queue import Empty, LightQueue
from kombu import Connection
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc as nameko_rpc
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy.orm import sessionmaker
from werkzeug.wrappers import Response

from .config import AppConfig, Env, load_config
from .db import UnitOfWork, make_engine, ping
from .messaging import OutboxRelay, ServiceError
from .tracing import Tracing, instrument_engine

log = logging.getLogger(__name__)

def rpc(fn):
    """nameko's @rpc with ServiceError declared expected: those are answers, not failures (they
    are logged at INFO, see obcommon.logs). nameko's bare `@rpc` form would drop the argument."""
    return nameko_rpc(expected_exceptions=ServiceError)(fn)

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

    def __init__(self, provider: "Database"):
        self._p = provider  # read at use: other providers may hold a Db before the database is set up

    @classmethod
    def standalone(cls, database_url: str, base: Any, service_name: str, pool_size: int = 2) -> "Db":
        return cls(Database(base).bind_engine(database_url, service_name, pool_size))

    def uow(self) -> UnitOfWork:
        p = self._p
        return UnitOfWork(p.Session, p.base.OutboxMessage, p.service_name, on_commit=p.wake_relay)

    def ping(self) -> None:
        ping(self._p.engine)

    def dispose(self) -> None:
        self._p.engine.dispose()


class Database(DependencyProvider):
    def __init__(self, base: Any):
        self.base = base

    def bind_engine(self, database_url: str, service_name: str, pool_size: int) -> "Database":
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
        self.relay = OutboxRelay(self.Session, self.base.OutboxMessage, env.amqp_uri, self.service_name)

    def start(self) -> None:
        self._running = True
        self.container.spawn_managed_thread(self._relay_loop, identifier="outbox-relay")

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

    def get_dependency(self, worker_ctx) -> Db:
        return Db(self)


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
