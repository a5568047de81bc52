"""Render the Helm chart offline and return its manifests as Python objects."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "office-booker"
DEPLOY = REPO / "deploy"
DOCKER = REPO / "docker"
ALERTS = CHART / "files" / "alerts.yaml"
DASHBOARD = CHART / "files" / "dashboard.json"
RUNBOOKS = REPO / "docs" / "runbooks.md"

# The Kubernetes version manifests are validated against (kubernetes-validate bundles its schemas).
KUBE_VERSION = "1.34"
RELEASE = "office-booker"
NAMESPACE = "office-booker"

# The values files the chart must install with: chart defaults (with the one required value,
# smtp.host), the dev profile, the prod example.
VALUES_FILES = {
    "default": Path(__file__).parent / "values-default.yaml",
    "dev": DEPLOY / "values-dev.yaml",
    "prod": DEPLOY / "values-prod.yaml",
}


def load_values(name: str) -> dict | None:
    path = VALUES_FILES[name]
    return None if path is None else yaml.safe_load(path.read_text())


@dataclass
class Manifest:
    template: str   # e.g. office-booker/templates/deployment.yaml
    doc: dict

    @property
    def kind(self) -> str:
        return self.doc["kind"]

    @property
    def name(self) -> str:
        return self.doc["metadata"]["name"]

    @property
    def annotations(self) -> dict:
        return self.doc["metadata"].get("annotations") or {}

    @property
    def component(self) -> str | None:
        return (self.doc["metadata"].get("labels") or {}).get("app.kubernetes.io/component")


def render(values: dict | None = None) -> list[Manifest]:
    """Render every template (hooks and tests included) like `helm template` does."""
    import helm_python as helm

    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE)
    manifests = []
    for template, text in sorted(rendered.items()):
        if not template.endswith(".yaml"):
            continue  # NOTES.txt
        for doc in yaml.safe_load_all(text):
            if doc:
                manifests.append(Manifest(template, doc))
    return manifests


def pod_spec(m: Manifest) -> dict | None:
    """The pod spec of a workload, Job or Pod manifest."""
    if m.kind == "Pod":
        return m.doc["spec"]
    if m.kind in ("Deployment", "StatefulSet", "Job"):
        return m.doc["spec"]["template"]["spec"]
    return None


def by_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m.name: m for m in manifests if m.kind == kind}
