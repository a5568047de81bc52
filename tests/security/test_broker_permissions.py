"""Each process has its own RabbitMQ user and only the gateway's may call RPC methods (the review finding
"services trust any message on the broker"). The permissions of the chart
(charts/office-booker/files/rabbitmq-permissions.yaml) are applied to a real broker: the whole
system works with them, and a service's user cannot publish an RPC request such as
booking.cancel_booking {"system_admin": true}, nor bind a queue to listen to another service's
requests."""
import json
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import amqp
import psycopg
import pytest
import yaml

from obcommon.migrate import upgrade
from obcommon.procs import SERVICES
from tests.support.infra import _rabbitmqctl, fresh_database, fresh_vhost
from tests.support.stack import REPO, Stack

PERMISSIONS = REPO / "charts" / "office-booker" / "files" / "rabbitmq-permissions.yaml"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PROCESSES = ("gateway", *SERVICES)


def permissions() -> dict:
    text = PERMISSIONS.read_text().replace("UUID", UUID)
    return yaml.safe_load(text)


@contextmanager
def broker_users(vhost: str):
    """One user per process with the chart's permissions in `vhost`; {process: (user, password)}."""
    perms, users = permissions(), {}
    prefix = f"ob-{uuid.uuid4().hex[:6]}"
    try:
        for process in PROCESSES:
            user, password = f"{prefix}-{process}", uuid.uuid4().hex
            assert _rabbitmqctl("add_user", user, password)
            users[process] = (user, password)
            p = perms[process]
            assert _rabbitmqctl("set_permissions", "-p", vhost, user, p["configure"], p["write"], p["read"])
            assert _rabbitmqctl("set_topic_permissions", "-p", vhost, user, "nameko-rpc", p["rpc"]["write"],
                                p["rpc"]["read"])
        yield users
    finally:
        for user, _ in users.values():
            _rabbitmqctl("delete_user", user)


def uri_for(base: str, user: str, password: str) -> str:
    parts = urlsplit(base)
    netloc = f"{quote(user, safe='')}:{password}@{parts.hostname}:{parts.port or 5672}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@pytest.fixture(scope="module")
def locked_down(database_server, amqp_server, tmp_path_factory):
    with fresh_vhost(amqp_server) as base:
        vhost = urlsplit(base).path.lstrip("/")
        if not vhost.startswith("ob-test-"):
            pytest.skip("needs a local broker managed with rabbitmqctl (users and permissions)")
        with broker_users(vhost) as users, fresh_database(database_server) as db_url:
            uris = {p: uri_for(base, *users[p]) for p in PROCESSES}
            stack = Stack(base, db_url, tmp_path_factory.mktemp("broker-users"))
            stack.smtp.start()
            try:
                upgrade(db_url)
                for name in PROCESSES:
                    stack.launch(name, env={"AMQP_URI": uris[name]})
                stack.wait_ready()
                yield stack, uris
            finally:
                stack.stop()


def test_the_whole_system_works_with_one_restricted_user_per_process(locked_down):
    stack, _ = locked_down
    # gateway -> identity RPC, identity -> offices RPC (a System Admin's offices), identity's
    # events -> notify (the mail) and audit
    admin = stack.login("admin@my-company.example")
    assert admin["user"]["role"]["offices"] == ["alpha", "beta"]
    # booking's events -> notify (booking mail) and the gateway's read model; offices' and
    # identity's events -> booking
    email = f"perm-{uuid.uuid4().hex[:8]}@my-company.example"
    tomorrow = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)).isoformat()
    r = stack.client(email).post(stack.url("/api/bookings"), json={"user": email, "office": "alpha", "date": tomorrow},
                                 timeout=30)
    assert r.status_code in (200, 201), r.text
    stack.smtp.wait_for(email, count=2)  # the sign-in code, then the booking mail
    deadline = time.monotonic() + 20
    while True:
        with psycopg.connect(stack.database_url) as conn:
            services = {row[0] for row in conn.execute("SELECT DISTINCT service FROM audit.records")}
        if services >= {"identity", "booking"} or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert services >= {"identity", "booking"}
    for name, proc in stack.processes.items():
        text = proc.log_path.read_text(errors="replace")
        assert "ACCESS_REFUSED" not in text and "access_refused" not in text.lower(), name


def publish(uri: str, routing_key: str, exchange: str = "nameko-rpc") -> None:
    """Publish an RPC-shaped request with publisher confirms: returns once the broker took it."""
    parts = urlsplit(uri)
    conn = amqp.Connection(f"{parts.hostname}:{parts.port or 5672}", userid=parts.username,
                           password=parts.password, virtual_host=parts.path.lstrip("/"), confirm_publish=True)
    conn.connect()
    try:
        channel = conn.channel()
        body = json.dumps({"args": [], "kwargs": {"booking_id": "x", "caller": {"system_admin": True}}})
        channel.basic_publish(amqp.Message(body, content_type="application/json", reply_to=str(uuid.uuid4()),
                                           correlation_id=str(uuid.uuid4())),
                              exchange=exchange, routing_key=routing_key)
    finally:
        conn.collect()


def bind(uri: str, queue: str, routing_key: str, existing: bool = False) -> None:
    parts = urlsplit(uri)
    conn = amqp.Connection(f"{parts.hostname}:{parts.port or 5672}", userid=parts.username,
                           password=parts.password, virtual_host=parts.path.lstrip("/"))
    conn.connect()
    try:
        channel = conn.channel()
        channel.queue_declare(queue, passive=existing, auto_delete=not existing)
        channel.queue_bind(queue, "nameko-rpc", routing_key)
    finally:
        conn.collect()


@pytest.mark.parametrize("process", [p for p in PROCESSES if p != "gateway"])
def test_a_service_user_cannot_call_booking_with_forged_rights(locked_down, process):
    _, uris = locked_down
    with pytest.raises(amqp.exceptions.AccessRefused):
        publish(uris[process], "booking.cancel_booking")
    with pytest.raises(amqp.exceptions.AccessRefused):
        publish(uris[process], "identity.update_user")
    with pytest.raises(amqp.exceptions.AccessRefused):  # nor forge another service's events
        publish(uris[process], "booking_cancelled", exchange="booking.events" if process != "booking"
                else "identity.events")


def test_only_the_gateway_user_may_publish_rpc_requests(locked_down):
    _, uris = locked_down
    publish(uris["gateway"], "booking.cancel_booking")  # accepted (booking then checks the arguments)
    publish(uris["identity"], "offices.list_offices")  # the one call identity makes


def test_a_service_user_cannot_listen_to_another_services_requests(locked_down):
    _, uris = locked_down
    with pytest.raises(amqp.exceptions.AccessRefused):
        bind(uris["booking"], f"rpc.reply-booking-{uuid.uuid4()}", "identity.*")
    with pytest.raises(amqp.exceptions.AccessRefused):
        bind(uris["audit"], "rpc-audit", "#", existing=True)  # its own RPC queue, bound to everything
