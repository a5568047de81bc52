"""skaffold.yaml, the Alertmanager example and the operations guide fit the chart and images."""
import re
import shutil
import subprocess

import pytest
import yaml

from obcommon import procs

from .chart import DEPLOY, REPO, load_values

SKAFFOLD = REPO / "skaffold.yaml"
ALERTMANAGER = DEPLOY / "alertmanager.yaml"


def skaffold() -> dict:
    return yaml.safe_load(SKAFFOLD.read_text())


def test_skaffold_builds_one_artifact_per_dockerfile():
    artifacts = skaffold()["build"]["artifacts"]
    dockerfiles = {a["image"]: a["docker"]["dockerfile"] for a in artifacts}
    assert dockerfiles == {f"office-booker-{p}": f"docker/{p}.Dockerfile" for p in procs.COMMANDS}
    assert all(a["context"] == "." for a in artifacts)


def test_skaffold_deploys_the_chart_with_every_image():
    [release] = skaffold()["deploy"]["helm"]["releases"]
    assert release["chartPath"] == "charts/office-booker"
    assert (REPO / release["chartPath"] / "Chart.yaml").is_file()
    templates = release["setValueTemplates"]
    for process in procs.COMMANDS:
        sanitized = f"office_booker_{process}"  # skaffold: '-' becomes '_' in template names
        assert templates[f"{process}.image.repository"] == f"{{{{.IMAGE_REPO_{sanitized}}}}}"
        assert templates[f"{process}.image.tag"] == \
            f"{{{{.IMAGE_TAG_{sanitized}}}}}@{{{{.IMAGE_DIGEST_{sanitized}}}}}"
    for values_file in release["valuesFiles"]:
        assert (REPO / values_file).is_file()


def test_skaffold_profiles_dev_and_prod():
    profiles = {p["name"]: p for p in skaffold()["profiles"]}
    assert set(profiles) == {"dev", "prod"}
    prod_values = [p["value"] for p in profiles["prod"]["patches"] if p["path"].endswith("/valuesFiles")]
    assert prod_values == [["deploy/values-prod.yaml"]]
    [release] = skaffold()["deploy"]["helm"]["releases"]
    assert release["valuesFiles"] == ["deploy/values-dev.yaml"]
    assert load_values("dev")["dev"]["enabled"] is True
    assert "dev" not in load_values("prod")


def alertmanager_routes(route: dict):
    yield route
    for child in route.get("routes", []):
        yield from alertmanager_routes(child)


def test_alertmanager_example_routes_to_email_and_a_webhook():
    config = yaml.safe_load(ALERTMANAGER.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    used = {route["receiver"] for route in alertmanager_routes(config["route"]) if "receiver" in route}
    assert used <= set(receivers)
    kinds = {kind for r in receivers.values() for kind in r if kind.endswith("_configs")}
    assert {"email_configs", "slack_configs"} <= kinds
    assert "runbook_url" in ALERTMANAGER.read_text()


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed (Debian package prometheus-alertmanager)")
def test_alertmanager_example_passes_amtool():
    result = subprocess.run(["amtool", "check-config", str(ALERTMANAGER)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_operations_guide_covers_the_issue():
    text = (REPO / "docs" / "operations.md").read_text()
    headings = set(re.findall(r"^##+ (.+)$", text, flags=re.MULTILINE))
    assert {"Install", "Upgrade", "Read-only switch for risky migrations", "Rollback",
            "Backup and restore", "Uninstall"} <= headings
    assert "pg_dump" in text and "OB_READ_ONLY" in text
