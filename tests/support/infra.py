"""Where the tests find RabbitMQ and PostgreSQL.

In order: `AMQP_URI` / `DATABASE_URL` from the environment; else servers listening on the default
local ports; else testcontainers when a Docker engine answers; else servers started here (a
private `rabbitmq-server` node, an embedded PostgreSQL from pgserver). Every test stack then gets
its own RabbitMQ vhost (when rabbitmqctl can make one) and its own database, so stacks never share
queues or rows with each other or with a developer's running system.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

LOCAL_AMQP = "amqp://guest:guest@localhost:5672/"
LOCAL_PG = "postgresql://postgres@localhost:5432/postgres"
_started: list = []  # servers and containers started by this process, stopped at exit
_rabbit_nodes: dict = {}  # URI of a private rabbitmq node -> (node name, its environment)


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


def _pg_works(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001
        return False


def database_server_url() -> str:
    """A URL to a PostgreSQL server where the tests may create databases."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if port_open("localhost", 5432) and _pg_works(LOCAL_PG):
        return LOCAL_PG
    if _docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver=None).start()
        _started.append(container.stop)
        return container.get_connection_url()
    import pgserver

    datadir = tempfile.mkdtemp(prefix="ob-test-pg-")
    server = pgserver.get_server(datadir, cleanup_mode="delete")
    _started.append(lambda: shutil.rmtree(datadir, ignore_errors=True))
    return server.get_uri()


def amqp_server_uri() -> str:
    if os.environ.get("AMQP_URI"):
        return os.environ["AMQP_URI"]
    if port_open("localhost", 5672):
        return LOCAL_AMQP
    if _docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        container = RabbitMqContainer("rabbitmq:3.13-alpine").start()
        _started.append(container.stop)
        host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
        return f"amqp://guest:guest@{host}:{port}/"
    return _private_rabbitmq()


def _private_rabbitmq(prometheus_port: int | None = None) -> str:
    """Start a throw-away rabbitmq-server node on free ports (Debian's package); with
    `prometheus_port`, its rabbitmq_prometheus plugin serves metrics there."""
    binary = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    if not os.path.exists(binary):
        raise RuntimeError(
            "No RabbitMQ: set AMQP_URI, start one on localhost:5672, or install rabbitmq-server "
            "(apt-get install rabbitmq-server)"
        )
    base = tempfile.mkdtemp(prefix="ob-test-rabbit-")
    port, dist = free_port(), free_port()
    node = f"obtest{uuid.uuid4().hex[:8]}@localhost"
    plugins = os.path.join(base, "enabled_plugins")
    with open(plugins, "w") as f:
        f.write("[rabbitmq_prometheus].\n" if prometheus_port else "[].\n")
    conf = os.path.join(base, "rabbitmq.conf")  # our own, so a system listener setting cannot clash
    with open(conf, "w") as f:
        f.write(f"listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n")
        if prometheus_port:
            f.write(f"prometheus.tcp.port = {prometheus_port}\nprometheus.tcp.ip = 127.0.0.1\n")
    if os.geteuid() == 0:  # Debian's wrapper drops root for the rabbitmq user, who must own the dir
        with contextlib.suppress(KeyError, LookupError, OSError):
            for path in (base, plugins, conf):
                shutil.chown(path, "rabbitmq", "rabbitmq")
    env = dict(os.environ, RABBITMQ_NODENAME=node, RABBITMQ_NODE_PORT=str(port), RABBITMQ_DIST_PORT=str(dist),
               RABBITMQ_MNESIA_BASE=base, RABBITMQ_LOG_BASE=base, RABBITMQ_ENABLED_PLUGINS_FILE=plugins,
               RABBITMQ_PID_FILE=os.path.join(base, "pid"), RABBITMQ_CONFIG_FILE=conf)
    log = open(os.path.join(tempfile.gettempdir(), f"{node.split('@')[0]}.log"), "wb")
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)

    _rabbit_nodes[f"amqp://guest:guest@127.0.0.1:{port}/"] = (node, env)

    def stop():
        subprocess.run(["rabbitmqctl", "-n", node, "stop"], env=env, capture_output=True, timeout=60)
        proc.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)

    _started.append(stop)
    deadline = time.monotonic() + 90
    while not port_open("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"private rabbitmq-server did not start; see {log.name}")
        time.sleep(0.5)
    return f"amqp://guest:guest@127.0.0.1:{port}/"


def private_rabbitmq_node(amqp_uri: str) -> tuple[str, dict]:
    """(node name, environment) of a node started by `private_rabbitmq()`: `rabbitmq-server` with
    that environment starts the node again (same name, ports and data) after it was killed."""
    return _rabbit_nodes[amqp_uri]


def rabbitmqctl_private(amqp_uri: str, *args: str, timeout: float = 60) -> None:
    """Run `rabbitmqctl <args>` against a node started by `private_rabbitmq()` (by its URI), e.g.
    `stop_app` / `start_app` for a broker outage that keeps the node's durable queues."""
    node, env = _rabbit_nodes[amqp_uri]
    subprocess.run(["rabbitmqctl", "-n", node, *args], env=env, check=True, capture_output=True, timeout=timeout)


@contextmanager
def private_rabbitmq(prometheus_port: int | None = None) -> Iterator[str]:
    """A rabbitmq-server node of the caller's own, stopped on leaving (the session's servers stay)."""
    uri = _private_rabbitmq(prometheus_port)
    stop = _started.pop()
    try:
        yield uri
    finally:
        stop()


@atexit.register
def _stop_started() -> None:
    while _started:
        try:
            _started.pop()()
        except Exception:  # noqa: BLE001
            pass


# ------------------------------------------------------------------------- isolation


def with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextmanager
def fresh_database(server_url: str, prefix: str = "ob_test") -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rabbitmqctl(*args: str) -> bool:
    tool = shutil.which("rabbitmqctl") or ("/usr/sbin/rabbitmqctl" if os.path.exists("/usr/sbin/rabbitmqctl") else None)
    if not tool:
        return False
    try:
        return subprocess.run([tool, *args], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def fresh_vhost(amqp_uri: str) -> Iterator[str]:
    """A private vhost on a local broker (via rabbitmqctl); the given URI when that is impossible."""
    parts = urlsplit(amqp_uri)
    vhost = f"ob-test-{uuid.uuid4().hex[:10]}"
    local = parts.hostname in ("localhost", "127.0.0.1", "::1") and parts.port in (None, 5672)
    if not (local and _rabbitmqctl("add_vhost", vhost)):
        yield amqp_uri
        return
    user = parts.username or "guest"
    _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))
    finally:
        _rabbitmqctl("delete_vhost", vhost)
