"""Broker faults on the suite's private RabbitMQ node (tests/support/infra.py `private_rabbitmq`)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from urllib.parse import urlsplit

from tests.support.infra import port_open, private_rabbitmq_node, rabbitmqctl_private


def stop(amqp_uri: str) -> None:
    """A clean stop: the node closes every connection (AMQP connection.close) and its port;
    durable queues and their persistent messages stay."""
    rabbitmqctl_private(amqp_uri, "stop_app")


def start(amqp_uri: str) -> None:
    rabbitmqctl_private(amqp_uri, "start_app")


def kill(amqp_uri: str) -> None:
    """A crash: SIGKILL of the node's Erlang VM, so sockets die without an AMQP goodbye."""
    _, env = private_rabbitmq_node(amqp_uri)
    with open(env["RABBITMQ_PID_FILE"]) as f:
        os.kill(int(f.read().strip()), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while port_open("127.0.0.1", urlsplit(amqp_uri).port) and time.monotonic() < deadline:
        time.sleep(0.05)


def start_killed(amqp_uri: str, log_path: str) -> None:
    """`rabbitmq-server` again with the same node name, port and data directory (stopped with the
    node at the end, by `private_rabbitmq`)."""
    node, env = private_rabbitmq_node(amqp_uri)
    binary = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    with open(log_path, "ab") as log:
        subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while not port_open("127.0.0.1", urlsplit(amqp_uri).port):  # the listener opens once booted
        if time.monotonic() > deadline:
            raise TimeoutError(f"rabbitmq node {node} did not start again; see {log_path}")
        time.sleep(0.1)
