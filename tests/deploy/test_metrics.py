"""Every metric an alert rule or the Grafana dashboard uses is a known one (expected_metrics.py),
so a test against the running stack can prove each is really exposed."""
import json
import re

import pytest
import yaml

from . import expected_metrics
from .chart import ALERTS, DASHBOARD

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (selectors, not functions, labels or keywords)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)     # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)               # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)              # range selectors
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        if expr[match.end():].lstrip().startswith("(") or match.group() in KEYWORDS:
            continue  # a function call or a keyword
        names.add(match.group())
    return names


def alert_expressions() -> list[str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def dashboard_expressions() -> list[str]:
    exprs = []
    for panel in dashboard()["panels"]:
        exprs += [target["expr"] for target in panel.get("targets", [])]
    for variable in dashboard()["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            exprs += re.findall(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)", query["query"])
    return exprs


def test_metric_name_extraction():
    expr = ('histogram_quantile(0.99, sum by (namespace, le) (rate(a_bucket{route!~"/x|y"}[5m]))) > 1 '
            'unless on (namespace) sum(increase(b_total[$__rate_interval])) or vector(0)')
    assert metric_names(expr) == {"a_bucket", "b_total"}


@pytest.mark.parametrize("source, expressions", [
    ("alert rules", alert_expressions()),
    ("dashboard", dashboard_expressions()),
])
def test_every_metric_used_is_known(source, expressions):
    used = set().union(*(metric_names(e) for e in expressions))
    assert "ob_http_requests_total" in used
    unknown = used - expected_metrics.ALL
    assert not unknown, f"{source} use metrics missing from tests/deploy/expected_metrics.py: {unknown}"


def test_expected_metrics_are_split_by_origin():
    assert all(name.startswith("ob_") for name in expected_metrics.OURS)
    assert all(name.startswith("rabbitmq_") for name in expected_metrics.RABBITMQ)
    used = set().union(*(metric_names(e) for e in alert_expressions() + dashboard_expressions()))
    assert expected_metrics.ALL == used, "keep the list to the names the rules and dashboard use"


def test_dashboard_is_usable_by_the_grafana_sidecar():
    board = dashboard()
    assert board["uid"] == "office-booker" and board["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(panel["title"] for panel in board["panels"]).lower()
    for topic in ("requests", "latency", "error", "bookings", "queue depth"):
        assert topic in titles
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"]
