"""Fixtures for the audit interface tests, built on the shared helpers in tests/support.

The audit process gets its own RabbitMQ vhost (when rabbitmqctl can make one) and its own
database, so its fixed-name queues (`evt-…--audit.on_…`, `rpc-audit`) are never shared with
another audit service on the same broker.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from obcommon.messaging import wait_for
from obcommon.migrate import upgrade
from obcommon.procs import COMMANDS
from services.audit.dependencies import audited_events
from tests.support.infra import free_port, fresh_database, fresh_vhost
from tests.support.stack import REPO, Process

BASE_ENV = {
    "OFFICE_BOOKER_CONFIG": str(REPO / "config" / "example.yaml"),
    "SECRET_KEY": "audit-tests-secret-key-0123456789",
    "SERVICE_HOST": "127.0.0.1",
    "PYTHONUNBUFFERED": "1",
}


class Audit:
    """A running audit process plus what a test needs to talk to it."""

    def __init__(self, process: Process, amqp_uri: str, database_url: str, env: dict):
        self.process = process
        self.env = env
        self.amqp_uri = amqp_uri
        self.database_url = database_url
        self.specs = audited_events()
        self.probe_actor = f"probe-{uuid.uuid4().hex[:8]}"
        from nameko.standalone.events import event_dispatcher

        self._send = event_dispatcher({"AMQP_URI": amqp_uri})

    def dispatch(self, spec, payload: dict) -> dict:
        """Publish on the spec's service's event exchange, as that service's outbox relay does."""
        self._send(spec.service, spec.name, payload)
        return payload

    def stop(self) -> None:
        self.process.stop()

    def start(self) -> None:
        """A new audit process on the same port, vhost and database (after `stop()`)."""
        old = self.process
        self.process = Process("audit", COMMANDS["audit"], self.env, old.log_path, old.http_port)
        wait_for(self.process.ready, timeout=60, interval=0.2, what="audit /readyz")

    def probe(self, rpc) -> bool:
        """Send one envelope-only event of each audited type not recorded yet; True when all are.

        RabbitMQ drops events published before the audit queues exist, so tests start after this.
        """
        seen = {r["entity_id"] for r in rpc.list_records(actor=self.probe_actor, limit=200)["records"]}
        missing = [s for s in self.specs if f"{s.service}.{s.name}" not in seen]
        for spec in missing:
            self.dispatch(spec, {
                "event_id": uuid.uuid4().hex, "type": spec.name, "service": spec.service,
                "at": datetime.now(UTC).isoformat(), "actor": self.probe_actor, "entity": "probe",
                "entity_id": f"{spec.service}.{spec.name}",
            })
        return not missing


@pytest.fixture(scope="session")
def audit(amqp_server, database_server, tmp_path_factory) -> Iterator[Audit]:
    """`python -m obcommon.launch audit` on a private vhost and a fresh, migrated database."""
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server, "ob_audit_test") as db_url:
        upgrade(db_url, ["audit"])
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OB_", "SMTP_", "DEV_MAILBOX", "OTEL_"))}
        env.update(BASE_ENV, AMQP_URI=amqp_uri, DATABASE_URL=db_url, SERVICE_PORT=str(port))
        process = Process("audit", COMMANDS["audit"], env, tmp_path_factory.mktemp("audit") / "audit.log", port)
        audit = Audit(process, amqp_uri, db_url, env)
        try:
            try:
                wait_for(process.ready, timeout=60, interval=0.2, what="audit /readyz")
            except (TimeoutError, RuntimeError) as exc:
                pytest.fail(f"audit did not become ready: {exc}\n{process.log_tail(60)}")
            yield audit
        finally:
            audit.stop()  # the process running now (a test may have restarted it)


@pytest.fixture(scope="session")
def rpc(audit):
    from nameko.standalone.rpc import ClusterRpcProxy

    with ClusterRpcProxy({"AMQP_URI": audit.amqp_uri, "serializer": "json"}, timeout=15) as proxy:
        try:
            wait_for(lambda: audit.probe(proxy.audit), timeout=30, interval=1.0, what="audit's event queues")
        except TimeoutError as exc:
            pytest.fail(f"audit does not record events: {exc}\n{audit.process.log_tail(60)}")
        yield proxy.audit


@pytest.fixture(scope="session")
def db(audit):
    """A plain connection for looking at the raw table."""
    with psycopg.connect(audit.database_url, autocommit=True) as conn:
        yield conn
