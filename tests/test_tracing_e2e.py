"""Traces (OpenTelemetry): one trace follows a booking from the gateway over RPC into the booking
service and its database, and on through the outbox events into audit and notify. The stack
exports over OTLP/HTTP, configured only by the standard OTEL_* variables, to a real receiver
that decodes the protobuf requests."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.fixtures import running_stack


class OtlpReceiver:
    """A minimal OTLP/HTTP trace collector: keeps every span it is sent."""

    def __init__(self):
        self.spans: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                with receiver.lock:
                    for resource_spans in request.resource_spans:
                        service = next(a.value.string_value for a in resource_spans.resource.attributes
                                       if a.key == "service.name")
                        for scope in resource_spans.scope_spans:
                            for span in scope.spans:
                                receiver.spans.append({
                                    "service": service, "name": span.name,
                                    "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                                    "parent_id": span.parent_span_id.hex() or None,
                                    "attributes": {a.key: a.value.string_value or a.value.int_value
                                                   for a in span.attributes},
                                })
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def trace(self, trace_id: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["trace_id"] == trace_id]

    def find(self, service: str, name: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["service"] == service and s["name"] == name]

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def traced(database_server, amqp_server, tmp_path_factory):
    receiver = OtlpReceiver()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    try:
        with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("traced"), extra_env=env) as s:
            yield s, receiver
    finally:
        receiver.stop()


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def ancestors(span: dict, spans: list[dict]) -> list[dict]:
    by_id = {s["span_id"]: s for s in spans}
    chain = []
    while span["parent_id"] in by_id:
        span = by_id[span["parent_id"]]
        chain.append(span)
    return chain


def test_a_booking_is_one_trace_from_the_gateway_to_the_event_consumers(traced):
    stack, receiver = traced
    user = f"trace-{uuid.uuid4().hex[:8]}@my-company.example"
    client = stack.client(user)
    day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)).isoformat()
    r = client.post(stack.url("/api/bookings"), json={"user": user, "office": "alpha", "date": day}, timeout=10)
    assert r.status_code == 201, r.text

    request = wait_for(lambda: receiver.find("office-booker-gateway", "POST /api/bookings"))
    assert len(request) == 1, request
    trace_id = request[0]["trace_id"]

    def complete():
        spans = receiver.trace(trace_id)
        names = {(s["service"], s["name"]) for s in spans}
        wanted = {("office-booker-booking", "booking.create_booking"),
                  ("office-booker-audit", "audit.on_booking__booking_created"),
                  ("office-booker-notify", "notify.on_booking_created")}
        return spans if wanted <= names else None

    spans = wait_for(complete)
    assert spans, f"incomplete trace: {sorted({(s['service'], s['name']) for s in receiver.trace(trace_id)})}"
    by_name = defaultdict(list)
    for s in spans:
        by_name[s["name"]].append(s)

    # gateway request -> RPC -> booking service span, which is a child of the gateway's request span
    rpc = by_name["booking.create_booking"][0]
    assert request[0] in ancestors(rpc, spans)
    # the booking's SQL statements are children of the RPC span
    sql = [s for s in spans if s["service"] == "office-booker-booking" and s["attributes"].get("db.system") == "postgresql"]
    assert sql and all(rpc in ancestors(s, spans) for s in sql), [s for s in spans if s["service"] == "office-booker-booking"]
    # the events carry the context through the outbox: the consumers' spans descend from the RPC
    for consumer in ("audit.on_booking__booking_created", "notify.on_booking_created"):
        assert rpc in ancestors(by_name[consumer][0], spans), consumer


def test_log_lines_carry_the_trace_id_and_the_error_reference(traced):
    stack, receiver = traced
    user = f"trace-{uuid.uuid4().hex[:8]}@my-company.example"
    client = stack.client(user)
    day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=2)).isoformat()
    body = {"user": user, "office": "alpha", "date": day}
    assert client.post(stack.url("/api/bookings"), json=body, timeout=10).status_code == 201
    r = client.post(stack.url("/api/bookings"), json=body, timeout=10)
    assert r.status_code == 409, r.text
    reference = r.json()["reference"]

    def gateway_line():
        for line in stack.processes["gateway"].log_path.read_text().splitlines():
            if reference in line:
                return json.loads(line)
        return None

    line = wait_for(gateway_line, timeout=5)
    assert line and line["level"] == "INFO" and line.get("trace_id"), line
    # the service's log line about the same rejected request is in the same trace
    booking_lines = [json.loads(x) for x in stack.processes["booking"].log_path.read_text().splitlines()
                     if line["trace_id"] in x]
    assert booking_lines, "the booking service logged nothing with the request's trace id"
    assert wait_for(lambda: receiver.trace(line["trace_id"]))
