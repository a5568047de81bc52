"""The Helm chart lints, renders, validates against the Kubernetes schemas and follows the deployment rules checked below."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from obcommon import __version__
from obcommon.config import AppConfig
from obcommon.procs import SERVICES

from .chart import ALERTS, CHART, DASHBOARD, KUBE_VERSION, RELEASE, VALUES_FILES, by_kind, load_values, pod_spec, render

COMPONENTS = ("gateway", *SERVICES)
FULLNAME = RELEASE  # the release name contains the chart name
SECRET_VARS = {"DATABASE_URL", "AMQP_URI", "SECRET_KEY", "SELFTEST_KEY", "SMTP_USERNAME", "SMTP_PASSWORD",
               "OIDC_CLIENT_SECRET", "SCIM_TOKEN"}


def app_deployments(manifests):
    return {m.component: m for m in manifests if m.kind == "Deployment" and m.component in COMPONENTS}


# ---------------------------------------------------------------- lint, render, schema validation

@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_chart_lints_without_warnings(values_name):
    import helm_python as helm

    report = helm.lint(CHART, load_values(values_name), strict=True, kube_version=f"v{KUBE_VERSION}.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error
    assert not report["errors"] and not problems, report


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_every_manifest_validates_against_the_kubernetes_schemas(rendered, values_name):
    import kubernetes_validate

    manifests = rendered[values_name]
    assert len(manifests) > 20
    for m in manifests:
        if m.doc["apiVersion"].startswith("monitoring.coreos.com/"):
            check_prometheus_operator_resource(m)  # CRDs: kubernetes-validate has no schema
            continue
        try:
            kubernetes_validate.validate(m.doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{m.template}: {m.kind} {m.name}: {exc.message} at {list(exc.path)}")


CRD_VALIDATOR = Path(__file__).parent / "crd"


def crd_problems(docs: list[dict]) -> list[str]:
    """Problems of Prometheus Operator resources against the operator's CRD schemas (the npm
    package @kubernetes-models/prometheus-operator, installed by ./ob test in tests/deploy/crd)."""
    node = shutil.which("node")
    if not node or not (CRD_VALIDATOR / "node_modules").exists():
        pytest.fail("node or tests/deploy/crd/node_modules is missing: run the tests with ./ob test")
    out = subprocess.run([node, str(CRD_VALIDATOR / "validate.mjs")], input=json.dumps(docs), capture_output=True,
                         text=True, timeout=60, check=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_service_monitors_and_rules_match_the_prometheus_operator_crds(rendered, values_name):
    docs = [m.doc for m in rendered[values_name] if m.doc["apiVersion"].startswith("monitoring.coreos.com/")]
    if values_name == "dev":  # a laptop cluster without the operator
        assert docs == []
        return
    assert {d["kind"] for d in docs} == {"ServiceMonitor", "PrometheusRule"}
    assert crd_problems(docs) == []


def test_the_crd_check_rejects_a_broken_resource(rendered):
    monitor = next(m.doc for m in rendered["default"] if m.kind == "ServiceMonitor")
    broken = json.loads(json.dumps(monitor))
    broken["spec"]["endpoints"][0]["interval"] = 30  # a number where the CRD wants a duration string
    problems = crd_problems([broken])
    assert len(problems) == 1 and "interval must be string" in problems[0]


def check_prometheus_operator_resource(m):
    assert m.doc["apiVersion"] == "monitoring.coreos.com/v1"
    spec = m.doc["spec"]
    if m.kind == "ServiceMonitor":
        assert spec["selector"]["matchLabels"] and spec["endpoints"]
        for endpoint in spec["endpoints"]:
            assert set(endpoint) <= {"port", "path", "interval", "honorLabels"}
    elif m.kind == "PrometheusRule":
        assert set(spec) == {"groups"}
        for group in spec["groups"]:
            assert set(group) == {"name", "rules"}
            for rule in group["rules"]:
                assert set(rule) <= {"alert", "record", "expr", "for", "labels", "annotations"}
    else:
        pytest.fail(f"unexpected Prometheus Operator kind {m.kind}")


@pytest.mark.parametrize("bad_values, message", [
    ({"gateway": {"replicas": "two"}}, "at '/gateway/replicas': got string, want integer"),
    ({"config": {"advance_booking_dayz": 7}}, "additional properties 'advance_booking_dayz' not allowed"),
    ({"config": {"offices": [{"id": "Big Office", "name": "x", "quota": 1}]}}, "/config/offices/0/id"),
    ({"secrets": {"databaseUrl": {"name": "", "key": "database-url"}}}, "/secrets/databaseUrl/name"),
    ({"secrets": {"amqpUri": {"gateway": {"name": "mq", "key": "uri", "value": "amqp://guest:guest@mq/"}}}},
     "additional properties 'value' not allowed"),
    ({"smtp": {"password": "hunter2"}}, "additional properties 'password' not allowed"),
    ({"logLevel": "LOUD"}, "/logLevel"),
    ({"serviceMonitr": {"enabled": True}}, "additional properties 'serviceMonitr' not allowed"),
])
def test_values_schema_rejects_bad_values_with_a_clear_message(bad_values, message):
    import helm_python as helm

    with pytest.raises(helm.HelmValuesError) as failure:
        render(bad_values)
    assert "values don't meet the specifications of the schema" in str(failure.value)
    assert message in str(failure.value)


def test_schema_config_keys_match_the_application_config():
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(schema["properties"]["config"]["properties"]) == set(AppConfig.model_fields)


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_office_config_in_values_is_valid_for_the_application(rendered, values_name):
    config_map = by_kind(rendered[values_name], "ConfigMap")[f"{FULLNAME}-config"]
    AppConfig.model_validate(yaml.safe_load(config_map.doc["data"]["config.yaml"]))


def test_app_version_is_the_application_version():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == __version__


# ---------------------------------------------------------------- workloads

@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_each_process_has_deployment_service_account_and_service(rendered, values_name):
    manifests = rendered[values_name]
    deployments = app_deployments(manifests)
    assert set(deployments) == set(COMPONENTS)
    accounts = by_kind(manifests, "ServiceAccount")
    services = by_kind(manifests, "Service")
    for name, deployment in deployments.items():
        spec = pod_spec(deployment)
        assert spec["serviceAccountName"] == f"{FULLNAME}-{name}"
        assert accounts[spec["serviceAccountName"]].doc["automountServiceAccountToken"] is False
        service = services[f"{FULLNAME}-{name}"]
        assert service.doc["spec"]["selector"] == deployment.doc["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_probes_ports_and_resources(rendered, values_name):
    for name, deployment in app_deployments(rendered[values_name]).items():
        [container] = pod_spec(deployment)["containers"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        [port] = container["ports"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        port_var = "GATEWAY_PORT" if name == "gateway" else "SERVICE_PORT"
        assert env[port_var] == str(port["containerPort"])
        assert env["OFFICE_BOOKER_CONFIG"] == "/etc/office-booker/config.yaml"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]


def test_autoscaling_and_disruption_budgets_by_default(rendered):
    manifests = rendered["default"]
    hpas = by_kind(manifests, "HorizontalPodAutoscaler")
    assert {m.component for m in hpas.values()} == {"gateway", "booking"}
    for hpa in hpas.values():
        assert hpa.doc["spec"]["scaleTargetRef"]["name"] == f"{FULLNAME}-{hpa.component}"
    deployments = app_deployments(manifests)
    assert "replicas" not in deployments["gateway"].doc["spec"]  # the HPA owns it
    assert deployments["identity"].doc["spec"]["replicas"] == 2
    assert {m.component for m in by_kind(manifests, "PodDisruptionBudget").values()} == set(COMPONENTS)


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_pods_run_non_root_with_read_only_root_filesystem(rendered, values_name):
    checked = 0
    for m in rendered[values_name]:
        spec = pod_spec(m)
        if spec is None or m.component in ("rabbitmq", "postgresql"):  # dev-mode servers
            continue
        checked += 1
        assert spec["securityContext"]["runAsNonRoot"] is True, m.name
        assert spec["securityContext"]["runAsUser"] != 0, m.name
        assert spec["automountServiceAccountToken"] is False, m.name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, m.name
            assert context["allowPrivilegeEscalation"] is False, m.name
            assert context["capabilities"]["drop"] == ["ALL"], m.name
        if m.component != "test":
            volumes = {v["name"]: v for v in spec["volumes"]}
            [tmp] = [mount for mount in spec["containers"][0]["volumeMounts"] if mount["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]], m.name
    assert checked >= len(COMPONENTS) + 2  # + the migration Job and the test Pod


@pytest.mark.parametrize("values_name", ["default", "prod"])
def test_secrets_come_from_existing_secrets_only(rendered, values_name):
    manifests = rendered[values_name]
    assert not by_kind(manifests, "Secret"), "the chart must never create Secrets outside dev mode"
    values = load_values(values_name) or {}
    seen = set()
    for m in manifests:
        spec = pod_spec(m)
        for container in (spec or {}).get("containers", []):
            for env in container.get("env", []):
                if env["name"] in SECRET_VARS:
                    seen.add(env["name"])
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], (m.name, env)
    expected = {"DATABASE_URL", "AMQP_URI", "SECRET_KEY", "SELFTEST_KEY"}
    if values.get("smtp", {}).get("credentials", {}).get("name"):
        expected |= {"SMTP_USERNAME", "SMTP_PASSWORD"}
    if values.get("sso", {}).get("clientSecret", {}).get("name"):
        expected.add("OIDC_CLIENT_SECRET")
    if values.get("sso", {}).get("scimToken", {}).get("name"):
        expected.add("SCIM_TOKEN")
    assert seen == expected


def test_dev_mode_runs_its_own_rabbitmq_and_postgresql(rendered):
    dev = rendered["dev"]
    assert set(by_kind(dev, "StatefulSet")) == {f"{FULLNAME}-rabbitmq", f"{FULLNAME}-postgresql"}
    assert set(by_kind(dev, "Secret")) == {f"{FULLNAME}-dev-credentials"}
    for m in app_deployments(dev).values():
        refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in pod_spec(m)["containers"][0]["env"]
                if "valueFrom" in e}
        assert refs == {f"{FULLNAME}-dev-credentials"}
    for name in ("default", "prod"):
        assert not by_kind(rendered[name], "StatefulSet")


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_migrations_run_in_a_hook_job_with_its_own_config(rendered, values_name):
    manifests = rendered[values_name]
    job = by_kind(manifests, "Job")[f"{FULLNAME}-migrate"]
    hook_config = by_kind(manifests, "ConfigMap")[f"{FULLNAME}-migrate-config"]
    release_config = by_kind(manifests, "ConfigMap")[f"{FULLNAME}-config"]
    expected = "post-install,pre-upgrade" if values_name == "dev" else "pre-install,pre-upgrade"
    assert job.annotations["helm.sh/hook"] == hook_config.annotations["helm.sh/hook"] == expected
    assert int(hook_config.annotations["helm.sh/hook-weight"]) < int(job.annotations["helm.sh/hook-weight"])
    assert hook_config.doc["data"] == release_config.doc["data"]
    volumes = {v["name"]: v for v in pod_spec(job)["volumes"]}
    assert volumes["config"]["configMap"]["name"] == hook_config.name
    assert "helm.sh/hook" not in release_config.annotations


def test_network_policies(rendered):
    for values_name in ("default", "prod"):
        values = load_values(values_name) or {}
        policies = by_kind(rendered[values_name], "NetworkPolicy")
        assert {m.component for m in policies.values()} == {*COMPONENTS, "migrate"}
        for m in policies.values():
            spec = m.doc["spec"]
            assert spec["policyTypes"] == ["Ingress", "Egress"]
            egress_ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
            assert {53, 5432} <= egress_ports
            if m.component == "migrate":
                assert spec["ingress"] == [] and egress_ports == {53, 5432}
                continue
            [ingress] = spec["ingress"]
            assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
            if m.component == "gateway":
                defaults = yaml.safe_load((CHART / "values.yaml").read_text())
                trusted = values.get("config", {}).get("trusted_proxies", defaults["config"]["trusted_proxies"])
                controller = values.get("ingress", {}).get("controllerNamespace",
                                                           defaults["ingress"]["controllerNamespace"])
                gateway_from = values.get("networkPolicy", {}).get("gatewayFrom", []) or (
                    [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": controller}}}]
                    if trusted > 0 else [])
                if not gateway_from:
                    assert "from" not in ingress, "the public entry takes traffic from anywhere"
                else:
                    # limited to the ingress controller, yet Prometheus still scrapes the gateway
                    # and the helm test Pod still reaches it
                    prometheus = yaml.safe_load((CHART / "values.yaml").read_text())["networkPolicy"]["prometheusFrom"]
                    test_pod = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "office-booker",
                                                                "app.kubernetes.io/instance": RELEASE,
                                                                "app.kubernetes.io/component": "test"}}}
                    assert ingress["from"] == [*gateway_from, *prometheus, test_pod]
            else:
                assert ingress["from"], "services accept only Prometheus"
            assert 5672 in egress_ports
            smtp = values.get("smtp", {})
            assert (587 in egress_ports) == (m.component == "notify" and bool(smtp.get("host")))


def test_ingress_routes_to_the_gateway(rendered):
    assert not by_kind(rendered["default"], "Ingress")
    [ingress] = by_kind(rendered["prod"], "Ingress").values()
    [rule] = ingress.doc["spec"]["rules"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": f"{FULLNAME}-gateway", "port": {"name": "http"}}
    assert ingress.doc["spec"]["tls"]


# ---------------------------------------------------------------- observability and helm test

def test_monitoring_resources_use_the_shared_files(rendered):
    manifests = rendered["default"]
    [rule] = by_kind(manifests, "PrometheusRule").values()
    base_url = (load_values("default") or {}).get("prometheusRule", {}).get("runbookBaseUrl") \
        or yaml.safe_load((CHART / "values.yaml").read_text())["prometheusRule"]["runbookBaseUrl"]
    expected = yaml.safe_load(ALERTS.read_text().replace("__RUNBOOK_BASE_URL__", base_url))
    assert rule.doc["spec"] == expected
    [monitor] = by_kind(manifests, "ServiceMonitor").values()
    assert monitor.doc["spec"]["endpoints"][0]["honorLabels"] is True
    dashboard = by_kind(manifests, "ConfigMap")[f"{FULLNAME}-dashboard"]
    assert dashboard.doc["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard.doc["data"]["office-booker.json"]) == json.loads(DASHBOARD.read_text())


def test_prometheus_operator_resources_can_be_switched_off(rendered):
    kinds = {m.kind for m in rendered["dev"]}
    assert not kinds & {"ServiceMonitor", "PrometheusRule"}
    assert f"{FULLNAME}-dashboard" not in by_kind(rendered["dev"], "ConfigMap")


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_helm_test_pod_runs_the_self_test(rendered, values_name):
    [pod] = by_kind(rendered[values_name], "Pod").values()
    assert pod.annotations["helm.sh/hook"] == "test"
    [container] = pod.doc["spec"]["containers"]
    assert "/api/selftest" in container["command"][-1] and "X-Selftest-Key" in container["command"][-1]
    env = {e["name"]: e for e in container["env"]}
    assert env["GATEWAY_URL"]["value"] == f"http://{FULLNAME}-gateway:80"
    assert "secretKeyRef" in env["SELFTEST_KEY"]["valueFrom"]


def test_optional_settings_render_valid_manifests():
    import kubernetes_validate

    manifests = render({
        "readOnly": True,
        "extraEnv": {"MAX_WORKERS": 30},
        "otel": {"endpoint": "http://otel-collector:4318", "extraEnv": {"OTEL_TRACES_SAMPLER": "always_on"}},
        "smtp": {"host": "smtp.example", "port": 25, "starttls": False},
        "secrets": {"selftestKey": {"name": "", "key": "selftest-key"}},
        "nodeSelector": {"pool": "apps"},
        "tolerations": [{"key": "dedicated", "operator": "Exists"}],
        "imagePullSecrets": [{"name": "registry"}],
        "networkPolicy": {"enabled": False},
        "booking": {"image": {"repository": "reg.example/booking", "tag": "1.2.3@sha256:" + "0" * 64},
                    "replicas": 3, "resources": {}, "pdb": {"enabled": False, "maxUnavailable": 1},
                    "autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 1,
                                    "targetCPUUtilizationPercentage": 50}},
    })
    for m in manifests:
        if not m.doc["apiVersion"].startswith("monitoring.coreos.com/"):
            kubernetes_validate.validate(m.doc, KUBE_VERSION, strict=True)
    assert not by_kind(manifests, "NetworkPolicy")
    deployments = app_deployments(manifests)
    assert deployments["booking"].doc["spec"]["replicas"] == 3
    [booking] = pod_spec(deployments["booking"])["containers"]
    assert booking["image"] == "reg.example/booking:1.2.3@sha256:" + "0" * 64
    for name, deployment in deployments.items():
        spec = pod_spec(deployment)
        assert spec["nodeSelector"] == {"pool": "apps"}
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert env["OB_READ_ONLY"] == "true" and env["MAX_WORKERS"] == "30"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
        assert "SELFTEST_KEY" not in env
        assert ("SMTP_HOST" in env) == (name == "notify") and "SMTP_PASSWORD" not in env
