"""Fixtures for the notify interface tests, built on the shared helpers in tests/support.

Each notify process gets its own RabbitMQ vhost (when rabbitmqctl can make one) and its own
database, so its fixed-name queues (`evt-identity-login_code_issued--notify.…`, `rpc-notify`)
are never shared with another notify on the same broker.
"""
from __future__ import annotations

import contextlib
import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

from obcommon.messaging import wait_for
from obcommon.migrate import upgrade
from obcommon.procs import COMMANDS
from services.identity.contract import LOGIN_CODE_ISSUED
from tests.support.infra import free_port, fresh_database, fresh_vhost
from tests.support.smtp import SmtpPeer
from tests.support.stack import REPO, Process

LOGIN_QUEUE = "evt-identity-login_code_issued--notify.on_login_code_issued"
BASE_ENV = {
    "OFFICE_BOOKER_CONFIG": str(REPO / "config" / "example.yaml"),
    "SECRET_KEY": "notify-tests-secret-key-0123456789",
    "SERVICE_HOST": "127.0.0.1",
    "NOTIFY_RETRY_BASE_SECONDS": "0.5",
    "PYTHONUNBUFFERED": "1",
}


class Notify:
    """A running notify process plus what a test needs to talk to it."""

    def __init__(self, process: Process, amqp_uri: str, database_url: str):
        self.process = process
        self.amqp_uri = amqp_uri
        self.database_url = database_url

    @staticmethod
    def code_event(email: str, code: str = "") -> dict:
        """A `login_code_issued` payload exactly as identity emits it."""
        return LOGIN_CODE_ISSUED.build(
            actor=email, entity="user", entity_id=email, code=code or f"{random.randrange(10**6):06d}",
            expires_at="2030-01-01T00:10:00+00:00", ttl_minutes=10)

    def publish(self, payload: dict) -> dict:
        """Publish on identity's event exchange, as identity's outbox relay does."""
        from nameko.standalone.events import event_dispatcher

        event_dispatcher({"AMQP_URI": self.amqp_uri})(LOGIN_CODE_ISSUED.service, LOGIN_CODE_ISSUED.name, payload)
        return payload

    def publish_code(self, email: str, code: str = "") -> dict:
        return self.publish(self.code_event(email, code))

    def log(self) -> str:
        return self.process.log_path.read_text(errors="replace")

    @contextlib.contextmanager
    def rpc(self, timeout: float = 10) -> Iterator:
        from nameko.standalone.rpc import ClusterRpcProxy

        with ClusterRpcProxy({"AMQP_URI": self.amqp_uri, "serializer": "json"}, timeout=timeout) as proxy:
            yield proxy.notify


def queue_consumed(amqp_uri: str, queue: str) -> bool:
    with Connection(amqp_uri, connect_timeout=3) as conn:
        _, _, consumers = conn.default_channel.queue_declare(queue, passive=True)
        return consumers > 0


@contextlib.contextmanager
def running_notify(amqp_server: str, database_server: str, workdir: Path, **env: str) -> Iterator[Notify]:
    """A private vhost and migrated database, and `python -m obcommon.launch notify` on them."""
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server, "ob_notify_test") as db_url:
        upgrade(db_url, ["notify"])
        port = free_port()
        proc_env = {k: v for k, v in os.environ.items() if not k.startswith(("OB_", "SMTP_", "DEV_MAILBOX", "OTEL_"))}
        proc_env.update(BASE_ENV, AMQP_URI=amqp_uri, DATABASE_URL=db_url, SERVICE_PORT=str(port), **env)
        log_path = workdir / f"notify-{uuid.uuid4().hex[:6]}.log"
        process = Process("notify", COMMANDS["notify"], proc_env, log_path, port)
        try:
            try:
                wait_for(process.ready, timeout=60, interval=0.2, what="notify /readyz")
                # RabbitMQ drops events published before the handler's queue exists.
                wait_for(lambda: queue_consumed(amqp_uri, LOGIN_QUEUE), timeout=30, interval=0.2,
                         what="notify's event queue")
            except (TimeoutError, RuntimeError) as exc:
                pytest.fail(f"notify did not become ready: {exc}\n{process.log_tail(60)}")
            yield Notify(process, amqp_uri, db_url)
        finally:
            process.stop()


@pytest.fixture(scope="module")
def smtp_peer() -> Iterator[SmtpPeer]:
    peer = SmtpPeer(free_port()).start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def notify(amqp_server, database_server, smtp_peer, tmp_path_factory) -> Iterator[Notify]:
    """notify sending to the module's SMTP peer, retrying failures after 0.5 s, 1 s, 2 s …"""
    with running_notify(amqp_server, database_server, tmp_path_factory.mktemp("notify"),
                        SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_peer.port), SMTP_STARTTLS="false") as n:
        yield n
