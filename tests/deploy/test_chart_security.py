"""The chart's part of the security review: every install runs in production mode and
must name an SMTP server; probes and metrics stay off the Ingress; behind trusted proxies only
the Ingress controller reaches the gateway; each process has its own RabbitMQ user."""
import base64
import hashlib
import json
from urllib.parse import urlsplit

import pytest
import yaml

from obcommon.procs import SERVICES

from .chart import CHART, RELEASE, VALUES_FILES, by_kind, load_values, pod_spec, render

COMPONENTS = ("gateway", *SERVICES)
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())
SMTP = {"smtp": {"host": "smtp.example"}}


def env_of(container) -> dict:
    return {e["name"]: e for e in container.get("env", [])}


def app_deployments(manifests) -> dict:
    return {m.component: m for m in manifests if m.kind == "Deployment" and m.component in COMPONENTS}


def schema_error(values) -> str:
    import helm_python as helm

    with pytest.raises(helm.HelmValuesError) as failure:
        render(values)
    return str(failure.value)


# ---------------------------------------------------------------- A: production mode, SMTP required

@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_every_install_runs_in_production_mode(rendered, values_name):
    values = load_values(values_name) or {}
    manifests = rendered[values_name]
    for m in manifests:
        for container in (pod_spec(m) or {}).get("containers", []):
            assert "OB_MODE" not in env_of(container), (m.name, "the chart never chooses development mode")
    deployments = app_deployments(manifests)
    assert set(deployments) == set(COMPONENTS)
    [notify] = pod_spec(deployments["notify"])["containers"]
    assert env_of(notify)["SMTP_HOST"]["value"] == values["smtp"]["host"] != ""
    [gateway] = pod_spec(deployments["gateway"])["containers"]
    assert env_of(gateway)["HSTS_MAX_AGE"]["value"] == str(values.get("hstsMaxAge", DEFAULTS["hstsMaxAge"]))


def test_hsts_max_age_is_configurable():
    [gateway] = pod_spec(app_deployments(render({**SMTP, "hstsMaxAge": 600}))["gateway"])["containers"]
    assert env_of(gateway)["HSTS_MAX_AGE"]["value"] == "600"
    assert "/hstsMaxAge" in schema_error({**SMTP, "hstsMaxAge": -1})


@pytest.mark.parametrize("values", [None, {"smtp": {"host": ""}}, {"smtp": {"host": " "}}],
                         ids=["chart defaults", "empty", "blank"])
def test_the_schema_refuses_an_install_without_smtp_host(values):
    message = schema_error(values)
    assert "values don't meet the specifications of the schema" in message and "/smtp/host" in message


def test_the_schema_refuses_development_mode_through_extra_env():
    assert "invalid propertyName 'OB_MODE'" in schema_error({**SMTP, "extraEnv": {"OB_MODE": "development"}})


def test_dev_mode_mails_to_its_own_mailbox(rendered):
    dev = rendered["dev"]
    mailbox = by_kind(dev, "Service")[f"{RELEASE}-mailbox"]
    assert load_values("dev")["smtp"]["host"] == mailbox.name
    assert {p["port"] for p in mailbox.doc["spec"]["ports"]} == {load_values("dev")["smtp"]["port"], 8025}
    [container] = pod_spec(by_kind(dev, "Deployment")[f"{RELEASE}-mailbox"])["containers"]
    assert container["command"] == ["python", "-m", "obcommon.devmail"]
    assert not by_kind(rendered["prod"], "Deployment").get(f"{RELEASE}-mailbox")


# ---------------------------------------------------------------- B: probes and metrics off the Ingress

def route(paths: list[dict], request_path: str):
    """The backend Service an Ingress sends `request_path` to (Kubernetes' rules: the longest
    match wins, Exact before Prefix at equal length; Prefix matches whole path elements)."""
    best = None
    for p in paths:
        if p["pathType"] == "Exact":
            ok, length = request_path == p["path"], len(p["path"]) + 0.5
        else:
            prefix = p["path"].rstrip("/")
            ok = request_path == prefix or request_path.startswith(prefix + "/")
            length = len(prefix)
        if ok and (best is None or length > best[0]):
            best = (length, p["backend"]["service"]["name"])
    return best and best[1]


@pytest.mark.parametrize("values_name", ["prod"])
def test_probes_and_metrics_never_reach_the_gateway_through_the_ingress(rendered, values_name):
    manifests = rendered[values_name]
    [ingress] = by_kind(manifests, "Ingress").values()
    [rule] = ingress.doc["spec"]["rules"]
    paths = rule["http"]["paths"]
    for path in ("/metrics", "/readyz", "/healthz"):
        target = route(paths, path)
        assert target != f"{RELEASE}-gateway", path
        service = by_kind(manifests, "Service")[target]
        assert "selector" not in service.doc["spec"], "a Service without endpoints: nothing answers"
    for path in ("/", "/api/offices", "/api/events", "/bookings", "/admin/users", "/assets/index.js",
                 "/metrics-of-the-week", "/api/metrics"):
        assert route(paths, path) == f"{RELEASE}-gateway", path
    assert not [m for m in manifests if m.kind in ("Endpoints", "EndpointSlice")]


def test_excluded_paths_are_configurable():
    manifests = render({**SMTP, "ingress": {"enabled": True, "hosts": [{"host": "ob.example"}],
                                            "excludedPaths": ["/metrics"]}})
    [ingress] = by_kind(manifests, "Ingress").values()
    paths = ingress.doc["spec"]["rules"][0]["http"]["paths"]
    assert route(paths, "/metrics") == f"{RELEASE}-not-routed"
    assert route(paths, "/readyz") == f"{RELEASE}-gateway"


# ---------------------------------------------------------------- C: trusted proxies and the gateway's policy

def gateway_sources(manifests):
    policy = by_kind(manifests, "NetworkPolicy")[f"{RELEASE}-gateway"]
    [rule] = policy.doc["spec"]["ingress"]
    return rule.get("from")


def controller(namespace: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


TEST_POD = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "office-booker",
                                            "app.kubernetes.io/instance": RELEASE,
                                            "app.kubernetes.io/component": "test"}}}


def test_behind_trusted_proxies_only_the_ingress_controller_reaches_the_gateway(rendered):
    assert DEFAULTS["config"]["trusted_proxies"] == 1
    prometheus = DEFAULTS["networkPolicy"]["prometheusFrom"]
    assert gateway_sources(rendered["default"]) == [controller("ingress-nginx"), *prometheus, TEST_POD]
    custom = render({**SMTP, "config": {"trusted_proxies": 2}, "ingress": {"controllerNamespace": "traefik"}})
    assert gateway_sources(custom) == [controller("traefik"), *prometheus, TEST_POD]
    # no proxy trusted: X-Forwarded-For is ignored, the gateway may be the public entry itself
    assert gateway_sources(render({**SMTP, "config": {"trusted_proxies": 0}})) is None
    assert gateway_sources(rendered["dev"]) is None


# ---------------------------------------------------------------- D: one RabbitMQ user per process

@pytest.mark.parametrize("values_name", ["default", "prod"])
def test_each_process_takes_amqp_uri_from_its_own_secret_key(rendered, values_name):
    refs = {}
    for name, deployment in app_deployments(rendered[values_name]).items():
        [container] = pod_spec(deployment)["containers"]
        ref = env_of(container)["AMQP_URI"]["valueFrom"]["secretKeyRef"]
        expected = ((load_values(values_name) or {}).get("secrets", {}).get("amqpUri") or
                    DEFAULTS["secrets"]["amqpUri"])[name]
        assert ref == expected, name
        refs[name] = (ref["name"], ref["key"])
    assert len(set(refs.values())) == len(COMPONENTS), refs


def rabbitmq_hash(password: str, salted: str) -> str:
    salt = base64.b64decode(salted)[:4]
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def test_the_dev_broker_has_one_user_per_process_with_the_charts_permissions(rendered):
    dev = rendered["dev"]
    secret = by_kind(dev, "Secret")[f"{RELEASE}-dev-credentials"].doc["stringData"]
    definitions = json.loads(by_kind(dev, "ConfigMap")[f"{RELEASE}-rabbitmq"].doc["data"]["definitions.json"])
    users = {u["name"]: u for u in definitions["users"]}
    perms = {p["user"]: p for p in definitions["permissions"]}
    topics = {t["user"]: t for t in definitions["topic_permissions"]}
    uuid_re = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    wanted = yaml.safe_load((CHART / "files" / "rabbitmq-permissions.yaml").read_text().replace("UUID", uuid_re))
    seen_users = set()
    for name, deployment in app_deployments(dev).items():
        [container] = pod_spec(deployment)["containers"]
        key = env_of(container)["AMQP_URI"]["valueFrom"]["secretKeyRef"]["key"]
        uri = urlsplit(secret[key])
        seen_users.add(uri.username)
        assert users[uri.username]["password_hash"] == rabbitmq_hash(uri.password, users[uri.username]["password_hash"])
        assert users[uri.username]["tags"] == []
        p = perms[uri.username]
        assert (p["configure"], p["write"], p["read"]) == (wanted[name]["configure"], wanted[name]["write"],
                                                           wanted[name]["read"])
        assert topics[uri.username]["exchange"] == "nameko-rpc"
        assert (topics[uri.username]["write"], topics[uri.username]["read"]) == (wanted[name]["rpc"]["write"],
                                                                                 wanted[name]["rpc"]["read"])
    assert len(seen_users) == len(COMPONENTS)
    admin = users["office_booker"]
    assert admin["password_hash"] == rabbitmq_hash("office-booker-dev", admin["password_hash"])


def test_only_the_gateway_user_may_publish_rpc_requests_to_services():
    """The rule itself, on the permissions file (tests/security/test_broker_permissions.py proves
    it on a real broker): a request's routing key is <service>.<method>; a reply's is a UUID."""
    import re

    uuid_re = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    perms = yaml.safe_load((CHART / "files" / "rabbitmq-permissions.yaml").read_text().replace("UUID", uuid_re))
    assert set(perms) == set(COMPONENTS)
    for name, p in perms.items():
        may_call = re.fullmatch(p["rpc"]["write"], "booking.cancel_booking") is not None
        assert may_call == (name == "gateway"), name
        assert re.fullmatch(p["rpc"]["write"], "identity.update_user") is None or name == "gateway"


# ---------------------------------------------------------------- the company's identity provider (SPEC §16)

SSO = {
    **SMTP,
    "config": {"login_methods": ["otac", "oidc"], "web_url": "https://booker.my-company.example",
               "oidc": {"issuer": "https://login.microsoftonline.com/tenant-id/v2.0", "client_id": "client-id",
                        "email_claim": "preferred_username", "group_offices": {"group-id": ["alpha"]},
                        "provider_name": "Microsoft"}},
    "sso": {"clientSecret": {"name": "office-booker-sso", "key": "client-secret"},
            "scimToken": {"name": "office-booker-sso", "key": "scim-token"}},
}


def test_sso_secrets_come_from_existing_secrets_for_the_gateway_only():
    manifests = render(SSO)
    deployments = app_deployments(manifests)
    [gateway] = pod_spec(deployments["gateway"])["containers"]
    env = env_of(gateway)
    assert env["OIDC_CLIENT_SECRET"]["valueFrom"] == {
        "secretKeyRef": {"name": "office-booker-sso", "key": "client-secret"}}
    assert env["SCIM_TOKEN"]["valueFrom"] == {"secretKeyRef": {"name": "office-booker-sso", "key": "scim-token"}}
    for name, m in deployments.items():
        if name != "gateway":
            assert not {"OIDC_CLIENT_SECRET", "SCIM_TOKEN"} & set(env_of(pod_spec(m)["containers"][0])), name
    config = yaml.safe_load(by_kind(manifests, "ConfigMap")[f"{RELEASE}-config"].doc["data"]["config.yaml"])
    assert config["login_methods"] == ["otac", "oidc"] and config["oidc"]["client_id"] == "client-id"
    # Unset by default: no variable at all (the gateway then has no secret and no SCIM endpoint).
    [plain] = pod_spec(app_deployments(render(SMTP))["gateway"])["containers"]
    assert not {"OIDC_CLIENT_SECRET", "SCIM_TOKEN"} & set(env_of(plain))


def test_with_oidc_only_the_gateway_may_reach_the_provider():
    def https_egress(values) -> dict:
        policies = by_kind(render(values), "NetworkPolicy")
        return {m.component: any(p["port"] == 443 for rule in m.doc["spec"]["egress"] for p in rule["ports"])
                for m in policies.values()}

    with_oidc = https_egress(SSO)
    assert with_oidc.pop("gateway") is True and not any(with_oidc.values())
    assert not any(https_egress(SMTP).values())


@pytest.mark.parametrize(("values", "where"), [
    ({"config": {"login_methods": ["saml"]}}, "/config/login_methods"),
    ({"config": {"login_methods": []}}, "/config/login_methods"),
    ({"config": {"oidc": {"issuer": "ftp://idp.example", "client_id": "x"}}}, "/config/oidc"),
    ({"config": {"oidc": {"issuer": "https://idp.example"}}}, "/config/oidc"),
    ({"sso": {"clientSecret": {"name": "Not A Name", "key": "k"}}}, "/sso/clientSecret/name"),
    ({"sso": {"scimToken": "the-token-itself"}}, "/sso/scimToken"),
])
def test_the_schema_refuses_bad_sso_values(values, where):
    assert where in schema_error({**SMTP, **values})
