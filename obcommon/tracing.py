"""OpenTelemetry traces: off unless the standard OTEL_* variables ask for an exporter.

One trace follows a request through every process it touches:

    gateway: server span per request (Flask instrumentation)
      └─ RPC: the W3C context rides in the AMQP headers (nameko context data `traceparent`,
         header `nameko.traceparent`), set on the pooled proxy for each call (gateway/rpc.py)
         └─ service: one span per RPC / event handler / timer (`Tracing` below)
            ├─ database: a span per statement (SQLAlchemy instrumentation)
            └─ events: the context is stored with the outbox row and published in its
               headers, so the consumers' handler spans join the same trace

Configuration is the standard one: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER=otlp|console`; `OTEL_SDK_DISABLED=true`
turns it off; the exporter itself reads the other `OTEL_EXPORTER_OTLP_*` variables.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)

PROPAGATED = ("traceparent", "tracestate")  # the W3C keys carried in message headers
_enabled = False


def setup_tracing(service: str) -> bool:
    """Install a tracer provider when the OTEL_* variables configure an exporter."""
    global _enabled
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    if disabled or exporter_name == "none" or (not exporter_name and not endpoint):
        return False
    if exporter_name == "console":
        exporter: Any = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or f"office-booker-{service}",
                                "service.namespace": "office-booker"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _enabled = True
    log.info("tracing on: spans exported with %s", type(exporter).__name__)
    return True


def enabled() -> bool:
    """Whether this process exports spans (setup_tracing found an exporter)."""
    return _enabled


def inject(carrier: dict) -> dict:
    """Write the current trace context into `carrier` (replacing an older one); returns it."""
    for key in PROPAGATED:
        carrier.pop(key, None)
    if _enabled:
        from opentelemetry import propagate

        propagate.inject(carrier)
    return carrier


def current_context() -> dict | None:
    """The current trace context as headers to store with an outbox row (None when off)."""
    if not _enabled:
        return None
    return inject({}) or None


def instrument_engine(engine) -> None:
    """A span per SQL statement of `engine` (no-op when tracing is off)."""
    if _enabled:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # Its declared range stops below SQLAlchemy 2.1, whose cursor-execute events it hooks are
        # unchanged; tests/test_tracing_e2e.py checks that the statements' spans arrive.
        SQLAlchemyInstrumentor().instrument(engine=engine, enable_commenter=False, skip_dep_check=True)


def instrument_flask(app) -> None:
    """A server span per request of the gateway (no-op when tracing is off)."""
    if _enabled:
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        FlaskInstrumentor().instrument_app(app, excluded_urls="healthz,readyz,metrics,api/events")


class Tracing(DependencyProvider):
    """A span per RPC, event handler and timer of a nameko service, child of the context that
    came in the message headers; the worker's outgoing calls and events carry the new span."""

    def setup(self) -> None:
        self._active: dict = {}

    def worker_setup(self, worker_ctx) -> None:
        if not _enabled:
            return
        from nameko.web.handlers import HttpRequestHandler
        from opentelemetry import context, propagate, trace

        entry = worker_ctx.entrypoint
        if isinstance(entry, HttpRequestHandler):  # probes and metrics scrapes: not traced
            return
        kind_name = type(entry).__name__
        kind = {"Rpc": trace.SpanKind.SERVER, "EventHandler": trace.SpanKind.CONSUMER}.get(
            kind_name, trace.SpanKind.INTERNAL)
        parent = propagate.extract({k: v for k, v in worker_ctx.data.items() if k in PROPAGATED})
        service = self.container.service_name
        span = trace.get_tracer("office-booker").start_span(
            f"{service}.{entry.method_name}", context=parent, kind=kind,
            attributes={"ob.service": service, "ob.entrypoint": entry.method_name, "ob.kind": kind_name},
        )
        token = context.attach(trace.set_span_in_context(span))
        inject(worker_ctx.data)  # calls and events made by this worker are its children
        self._active[worker_ctx] = (span, token)

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        active = self._active.get(worker_ctx)
        if not active or exc_info is None:
            return
        from opentelemetry.trace import Status, StatusCode

        from .messaging import ServiceError

        span, _ = active
        exc = exc_info[1]
        if isinstance(exc, ServiceError):  # an answer (a rejected booking), not a failure
            span.set_attribute("ob.rejected", type(exc).__name__)
        else:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))

    def worker_teardown(self, worker_ctx) -> None:
        active = self._active.pop(worker_ctx, None)
        if active:
            from opentelemetry import context

            span, token = active
            span.end()
            context.detach(token)
