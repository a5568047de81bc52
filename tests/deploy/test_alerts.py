"""The alert rules pass promtool, every alert fires in a promtool unit test, and every alert has a
summary and a runbook section."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .chart import ALERTS, RUNBOOKS

UNIT_TESTS = Path(__file__).with_name("alerts_test.yaml")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not found: install Debian's prometheus package (./ob test does when run as root)")


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def promtool(*args: str) -> str:
    result = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@needs_promtool
def test_promtool_check_rules():
    assert "SUCCESS" in promtool("check", "rules", str(ALERTS))


@needs_promtool
def test_promtool_unit_tests_pass():
    assert "SUCCESS" in promtool("test", "rules", str(UNIT_TESTS))


def test_the_issue_alerts_exist():
    names = {rule["alert"] for rule in alert_rules()}
    assert names == {
        "OfficeBookerGatewayErrorRatio",        # gateway 5xx ratio
        "OfficeBookerGatewayLatencyHigh",       # p99 latency
        "OfficeBookerBookingRpcErrors",         # booking RPC errors
        "OfficeBookerQueueBacklog",             # RabbitMQ queue backlog
        "OfficeBookerQueueConsumersMissing",    # ... and consumers missing
        "OfficeBookerMessagesDeadLettered",     # dead-lettered messages
        "OfficeBookerServiceDown",              # service down
        "OfficeBookerErrorLogRate",             # ERROR log rate
        "OfficeBookerMailFailing",              # mail sending failures
    }


def test_every_alert_fires_in_a_unit_test():
    fired = {
        case["alertname"]
        for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == {rule["alert"] for rule in alert_rules()}


def runbook_anchors() -> set[str]:
    """GitHub-style anchors of the level-2 headings of docs/runbooks.md."""
    headings = re.findall(r"^## (.+)$", RUNBOOKS.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_has_severity_summary_and_runbook(rule):
    assert rule["labels"]["severity"] in ("critical", "warning")
    annotations = rule["annotations"]
    assert set(annotations) == {"summary", "runbook_url"}
    anchor = rule["alert"].lower()
    assert annotations["runbook_url"] == f"__RUNBOOK_BASE_URL__#{anchor}"
    assert anchor in runbook_anchors(), f"docs/runbooks.md needs a section '## {rule['alert']}'"
