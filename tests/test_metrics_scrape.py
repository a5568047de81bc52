"""Every metric an alert rule or the Grafana dashboard uses is really exposed: by the
running stack's gateway and services, and by RabbitMQ's rabbitmq_prometheus plugin (scraped from
a private broker node with the plugin on)."""
import os
import re
import shutil

import pytest
import requests

from .deploy.expected_metrics import OURS, RABBITMQ
from .support import infra


def exposed_names(text: str) -> set[str]:
    """Sample names, plus the names a family will have once observed (from TYPE lines)."""
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
        if kind == "histogram":
            names |= {f"{family}_bucket", f"{family}_sum", f"{family}_count"}
        elif kind == "counter":
            names |= {family, family if family.endswith("_total") else f"{family}_total"}
        else:
            names.add(family)
    return names


def test_our_alert_and_dashboard_metrics_are_exposed(stack):
    seen: set[str] = set()
    for proc in stack.processes.values():
        seen |= exposed_names(requests.get(proc.url + "/metrics", timeout=10).text)
    assert OURS - seen == set()


@pytest.mark.skipif(not (shutil.which("rabbitmq-server") or os.path.exists("/usr/sbin/rabbitmq-server")),
                    reason="rabbitmq-server is not installed")
def test_rabbitmq_metrics_used_by_alerts_exist_in_the_plugin():
    from kombu import Connection, Exchange, Queue

    port = infra.free_port()
    with infra.private_rabbitmq(prometheus_port=port) as uri:
        with Connection(uri) as conn:  # one queue, so per-queue series exist
            Queue("rpc-probe", Exchange("probe"), "probe")(conn.channel()).declare()
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        text += requests.get(f"http://127.0.0.1:{port}/metrics/per-object", timeout=10).text
    assert RABBITMQ - exposed_names(text) == set()
