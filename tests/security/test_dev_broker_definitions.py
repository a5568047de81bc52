"""The dev-mode broker of the chart loads its users from the rendered definitions file: each
process's dev credentials log in, and its permissions are those of
charts/office-booker/files/rabbitmq-permissions.yaml (a real rabbitmq-server node of our own)."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from urllib.parse import urlsplit

import amqp
import pytest

from tests.deploy.chart import by_kind, load_values, render
from tests.support.infra import free_port, port_open

SERVER = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"


@pytest.fixture(scope="module")
def dev_broker():
    if not os.path.exists(SERVER):
        pytest.skip("rabbitmq-server is not installed")
    dev = render(load_values("dev"))
    config = by_kind(dev, "ConfigMap")["office-booker-rabbitmq"].doc["data"]
    secret = by_kind(dev, "Secret")["office-booker-dev-credentials"].doc["stringData"]
    base = tempfile.mkdtemp(prefix="ob-test-devbroker-")
    port, dist = free_port(), free_port()
    node = f"obdev{uuid.uuid4().hex[:8]}@localhost"
    files = {"definitions.json": config["definitions.json"], "enabled_plugins": "[].\n",
             # the chart's own setting, pointed at this directory; our ports
             "rabbitmq.conf": config["office-booker.conf"].replace("/etc/rabbitmq/", base + "/")
             .replace("prometheus.return_per_object_metrics = true\n", "")
             + f"listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"}
    for name, text in files.items():
        with open(os.path.join(base, name), "w") as f:
            f.write(text)
    if os.geteuid() == 0:  # Debian's wrapper drops root for the rabbitmq user
        for path in [base, *(os.path.join(base, n) for n in files)]:
            shutil.chown(path, "rabbitmq", "rabbitmq")
    env = dict(os.environ, RABBITMQ_NODENAME=node, RABBITMQ_NODE_PORT=str(port), RABBITMQ_DIST_PORT=str(dist),
               RABBITMQ_MNESIA_BASE=base, RABBITMQ_LOG_BASE=base, RABBITMQ_PID_FILE=os.path.join(base, "pid"),
               RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(base, "enabled_plugins"),
               RABBITMQ_CONFIG_FILE=os.path.join(base, "rabbitmq.conf"))
    proc = subprocess.Popen([SERVER], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not port_open("127.0.0.1", port):
            assert proc.poll() is None and time.monotonic() < deadline, "rabbitmq-server did not start"
            time.sleep(0.5)
        yield port, node, env, secret
    finally:
        subprocess.run(["rabbitmqctl", "-n", node, "stop"], env=env, capture_output=True, timeout=60)
        proc.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def login(port: int, user: str, password: str, wait: float = 30) -> None:
    deadline = time.monotonic() + wait
    while True:  # the definitions are imported right after the listener opens
        try:
            conn = amqp.Connection(f"127.0.0.1:{port}", userid=user, password=password, virtual_host="/")
            conn.connect()
            conn.close()
            return
        except amqp.exceptions.AccessRefused:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_each_process_logs_in_with_its_dev_credentials_and_no_other_password(dev_broker):
    port, _, _, secret = dev_broker
    uris = {k: urlsplit(v) for k, v in secret.items() if k.startswith("amqp-uri-")}
    assert len(uris) == 6 and len({u.username for u in uris.values()}) == 6
    for uri in uris.values():
        login(port, uri.username, uri.password)
        with pytest.raises(amqp.exceptions.AccessRefused):
            login(port, uri.username, "guest", wait=0)
    login(port, "office_booker", "office-booker-dev")  # the management UI's administrator
    with pytest.raises(amqp.exceptions.AccessRefused):
        login(port, "guest", "guest", wait=0)  # no default user once definitions are loaded


def test_the_loaded_topic_permissions_let_only_the_gateway_call_rpc_methods(dev_broker):
    port, node, env, _ = dev_broker
    out = subprocess.run(["rabbitmqctl", "-n", node, "-q", "list_topic_permissions", "-p", "/"], env=env,
                         capture_output=True, text=True, check=True, timeout=60).stdout
    rows = [line.split("\t") for line in out.splitlines() if line.startswith("office-booker-")]
    assert len(rows) == 6
    for user, exchange, write, _read in rows:
        assert exchange == "nameko-rpc"
        assert (re.fullmatch(write, "booking.cancel_booking") is not None) == (user == "office-booker-gateway")
