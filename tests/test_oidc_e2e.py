"""Sign-in with the company's identity provider (SPEC §16) through the gateway, against a real,
certified OpenID provider (panva's oidc-provider, tests/oidc/) and the real services.

The happy path, the group → Office Admin mapping, and every refusal the callback can meet: each
lands on `/signin?error=<reason>&ref=<reference>` with a stable reason, never a 500.
"""
from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer

from obcommon.config import Env

from .support.oidc import (
    CLIENT_ID,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    PROVIDER_NAME,
    Flow,
    cookie_value,
    me,
    oidc_stack,
    refusal,
    signed_in,
    signing_key,
)


@pytest.fixture(scope="module")
def sso(database_server, amqp_server, tmp_path_factory):
    with oidc_stack(database_server, amqp_server, tmp_path_factory.mktemp("oidc")) as (stack, provider):
        yield stack, provider


def person(provider, groups: list[str] | None = None, email: str | None = None, **claims) -> tuple[str, str]:
    """A new account at the provider: (login, email)."""
    login = f"p-{uuid.uuid4().hex[:8]}"
    email = email or f"{login}@my-company.example"
    provider.set_account(login, email, groups, **claims)
    return login, email


def sign_in(stack, login: str, next_path: str = "/") -> requests.Response:
    flow = Flow(stack, next_path)
    return flow.callback(flow.at_provider(login))


# ------------------------------------------------------------------ sign-in


def test_the_sign_in_page_learns_the_login_methods_and_the_provider(sso):
    stack, _ = sso
    methods = requests.get(stack.url("/api/auth/methods"), timeout=10).json()
    assert methods == {"login_methods": ["otac", "oidc"], "oidc_provider_name": PROVIDER_NAME}
    # /api/config's body stays SPEC §9's exact contract
    assert "login_methods" not in requests.get(stack.url("/api/config"), timeout=10).json()


def test_start_redirects_to_the_provider_with_pkce_state_and_nonce(sso):
    stack, provider = sso
    flow = Flow(stack, "/bookings")
    assert flow.authorize_url.startswith(provider.issuer + "/")
    params = flow.params
    assert params["client_id"] == CLIENT_ID and params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    assert params["redirect_uri"] == stack.url("/api/auth/oidc/callback")
    assert set(params["scope"].split()) == {"openid", "email", "profile", "groups"}
    header = next(h for h in flow.start.raw.headers.getlist("Set-Cookie") if h.startswith("ob_oidc="))
    attributes = {a.strip().split("=")[0].lower(): a for a in header.split(";")[1:]}
    assert {"httponly", "secure", "path", "max-age"} <= set(attributes)
    assert "samesite=lax" in header.lower() and "path=/api/auth/oidc" in header.lower()
    assert "Max-Age=600" in header
    # The cookie is signed, not readable as the state itself.
    assert params["state"] not in (flow.state_cookie or "")


def test_sign_in_sets_the_session_cookies_and_returns_to_next(sso):
    stack, provider = sso
    login, email = person(provider)
    response = sign_in(stack, login, "/bookings?office=alpha")
    token, location = signed_in(response)
    assert location == "/bookings?office=alpha"
    headers = response.raw.headers.getlist("Set-Cookie")
    session = next(h for h in headers if h.startswith("ob_session="))
    assert "HttpOnly" in session and "Secure" in session and "SameSite=Lax" in session
    csrf = next(h for h in headers if h.startswith("ob_csrf="))
    assert "HttpOnly" not in csrf
    assert any(h.startswith("ob_oidc=;") or h.startswith('ob_oidc="";') for h in headers)  # state cookie deleted
    user = me(stack, token)
    assert user["email"] == email and user["role"] == {"name": "Default", "offices": []}
    # The CSRF cookie works with the session cookie as after a code (SPEC §2).
    cookies = {"Cookie": f"ob_session={token}; ob_csrf={cookie_value(response, 'ob_csrf')}"}
    r = requests.post(stack.url("/api/auth/logout"), headers={**cookies, "X-CSRF-Token": cookie_value(response,
                      "ob_csrf") or ""}, timeout=10)
    assert r.status_code == 204
    assert requests.get(stack.url("/api/me"), headers={"Authorization": f"Bearer {token}"},
                        timeout=10).status_code == 401


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "bookings",
                                       "javascript:alert(1)"])
def test_next_is_only_ever_a_path_of_this_site(sso, next_path):
    stack, provider = sso
    login, _ = person(provider)
    _, location = signed_in(sign_in(stack, login, next_path))
    assert location == "/"


def test_group_mapping_sets_and_removes_office_admin_at_each_sign_in(sso):
    stack, provider = sso
    login, email = person(provider, groups=["site-admins", "unknown-office", "staff"])
    token, _ = signed_in(sign_in(stack, login))
    assert me(stack, token)["role"] == {"name": "Office Admin", "offices": ["alpha", "beta"]}

    provider.set_account(login, email, ["alpha-admins"])
    token, _ = signed_in(sign_in(stack, login))
    assert me(stack, token)["role"] == {"name": "Office Admin", "offices": ["alpha"]}

    provider.set_account(login, email, ["staff"])  # dropped from the admin groups
    token, _ = signed_in(sign_in(stack, login))
    assert me(stack, token)["role"] == {"name": "Default", "offices": []}

    provider.set_account(login, email, None)  # no groups claim at all: no offices either
    token, _ = signed_in(sign_in(stack, login))
    assert me(stack, token)["role"] == {"name": "Default", "offices": []}


def test_a_configured_system_admin_stays_system_admin(sso):
    stack, provider = sso
    login, _ = person(provider, groups=["alpha-admins"], email="admin@my-company.example")
    token, _ = signed_in(sign_in(stack, login))
    assert me(stack, token)["role"]["name"] == "System Admin"


# ------------------------------------------------------------------ refusals


def test_cancelling_at_the_provider(sso):
    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    assert refusal(flow.callback(flow.at_provider(login, cancel=True))) == "access_denied"


def test_tampered_state_parameter(sso):
    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    url = urlsplit(flow.at_provider(login))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    query["state"] = query["state"][:-2] + ("AA" if not query["state"].endswith("AA") else "BB")
    assert refusal(flow.callback(urlunsplit(url._replace(query=urlencode(query))))) == "state_invalid"


def test_tampered_missing_or_foreign_state_cookie(sso):
    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    callback = flow.at_provider(login)
    cookie = flow.state_cookie or ""
    assert refusal(flow.callback(callback, state_cookie=cookie[:-3] + "xyz")) == "state_invalid"
    assert refusal(flow.callback(callback, state_cookie=None)) == "state_invalid"
    other = Flow(stack)  # another attempt's cookie (another browser's, or a login CSRF)
    assert refusal(flow.callback(callback, state_cookie=other.state_cookie)) == "state_invalid"
    # The callback was refused before the code was used: the rightful browser can still finish.
    signed_in(flow.callback(callback))


def test_expired_state_cookie(sso):
    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    callback = flow.at_provider(login)
    # The same cookie, signed (with the gateway's key) 11 minutes ago: older than its 10 minutes.
    key = Env.from_environ(stack.env).derive_key("oidc-state")
    signer = URLSafeTimedSerializer(key, salt="ob-oidc-state")
    flow_data = signer.loads(flow.state_cookie)
    old_signer = signer.make_signer(signer.salt)
    old_signer.get_timestamp = lambda: int(time.time()) - 660  # type: ignore[method-assign]
    stale = old_signer.sign(signer.dump_payload(flow_data)).decode()
    assert refusal(flow.callback(callback, state_cookie=stale)) == "state_invalid"


def test_replayed_callback_and_replayed_code(sso):
    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    callback = flow.at_provider(login)
    signed_in(flow.callback(callback))
    # The same callback again (same cookie): the state was used.
    assert refusal(flow.callback(callback)) == "state_invalid"
    # The used code with a fresh attempt's state and cookie: the provider refuses to redeem it
    # again (and it was bound to the first attempt's PKCE verifier).
    attacker = Flow(stack)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    replay = stack.url("/api/auth/oidc/callback?" + urlencode({"code": code, "state": attacker.params["state"],
                                                               "iss": provider.issuer}))
    assert refusal(attacker.callback(replay)) == "provider_error"


def test_code_issued_to_another_client(sso):
    """The provider knows `other-app`; Office Booker does not. A code issued to it, delivered to our
    callback, is refused (the provider will not redeem another client's code for us)."""
    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    url = urlsplit(flow.authorize_url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    query["client_id"] = OTHER_CLIENT_ID
    callback = flow.at_provider(login, urlunsplit(url._replace(query=urlencode(query))))
    assert refusal(flow.callback(callback)) == "provider_error"


def test_id_token_for_another_audience_is_refused(sso):
    """A real ID token the provider issued to `other-app` (with our nonce) fails our audience check."""
    from gateway.oidc import Provider, Refused, verify_id_token

    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    url = urlsplit(flow.authorize_url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    query["client_id"] = OTHER_CLIENT_ID
    verifier = "v" * 43
    query["code_challenge"] = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    callback = flow.at_provider(login, urlunsplit(url._replace(query=urlencode(query))))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    tokens = requests.post(provider.issuer + "/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": query["redirect_uri"],
        "code_verifier": verifier}, auth=(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET), timeout=10)
    assert tokens.status_code == 200, tokens.text
    ours = Provider(provider.issuer)
    with pytest.raises(Refused) as refused:
        verify_id_token(ours, ours.metadata(), CLIENT_ID, tokens.json()["id_token"], query["nonce"])
    assert refused.value.reason == "token_invalid" and "aud" in str(refused.value)
    # The same token passes every check for its own audience (so the refusal was the audience).
    claims = verify_id_token(ours, ours.metadata(), OTHER_CLIENT_ID, tokens.json()["id_token"], query["nonce"])
    assert claims["aud"] == OTHER_CLIENT_ID


def test_email_outside_email_regex(sso):
    stack, provider = sso
    login, _ = person(provider, email=f"someone-{uuid.uuid4().hex[:6]}@elsewhere.example")
    assert refusal(sign_in(stack, login)) == "email_not_allowed"


def test_unverified_email(sso):
    stack, provider = sso
    login, _ = person(provider, email_verified=False)
    assert refusal(sign_in(stack, login)) == "email_unverified"
    login, email = person(provider, email_verified=None)  # absent: the provider vouches for its addresses
    token, _ = signed_in(sign_in(stack, login))
    assert me(stack, token)["email"] == email


def test_disabled_account(sso):
    stack, provider = sso
    login, email = person(provider)
    signed_in(sign_in(stack, login))
    with stack.rpc() as rpc:
        account = rpc.identity.list_accounts("userName", email)["accounts"][0]
        rpc.identity.replace_account(account["id"], False, None, None, "test")
    assert refusal(sign_in(stack, login)) == "account_disabled"
    with stack.rpc() as rpc:
        rpc.identity.replace_account(account["id"], True, None, None, "test")
    signed_in(sign_in(stack, login))


def test_provider_unreachable_at_the_token_endpoint(sso):
    stack, provider = sso
    login, _ = person(provider)
    flow = Flow(stack)
    callback = flow.at_provider(login)
    provider.stop()
    try:
        assert refusal(flow.callback(callback)) == "provider_unavailable"
    finally:
        provider.start()


def test_rotated_signing_key_is_followed(sso):
    stack, provider = sso
    login, email = person(provider)
    signed_in(sign_in(stack, login))  # the gateway holds the current JWKS
    provider.restart(keys=[signing_key(f"key-{uuid.uuid4().hex[:6]}")])  # a new key; the old one retired
    token, _ = signed_in(sign_in(stack, login))
    assert me(stack, token)["email"] == email


def test_bad_signature(sso):
    """The provider signs with other key material under a key id the gateway already knows: the
    signature does not verify against the published key the gateway holds."""
    stack, provider = sso
    login, _ = person(provider)
    signed_in(sign_in(stack, login))
    kid = provider.settings["keys"][0]["kid"]
    provider.restart(keys=[signing_key(kid)])
    try:
        assert refusal(sign_in(stack, login)) == "token_invalid"
    finally:
        provider.restart(keys=[signing_key(f"key-{uuid.uuid4().hex[:6]}")])
    signed_in(sign_in(stack, login))


def test_expired_id_token(sso):
    """The provider's clock is 15 minutes slow: its 5-minute ID tokens have expired on arrival."""
    stack, provider = sso
    login, _ = person(provider)
    provider.restart(clock_offset=-900, id_token_ttl=300)
    try:
        assert refusal(sign_in(stack, login)) == "token_invalid"
    finally:
        provider.restart(clock_offset=0)
    signed_in(sign_in(stack, login))


def test_gateway_log_has_the_reference_of_each_refusal(sso):
    stack, provider = sso
    flow = Flow(stack)
    response = flow.callback(stack.url("/api/auth/oidc/callback?code=x&state=y"), state_cookie=None)
    assert refusal(response) == "state_invalid"
    ref = parse_qs(urlsplit(response.headers["Location"]).query)["ref"][0]
    assert response.headers["X-Reference"] == ref
    deadline = time.monotonic() + 5
    while ref not in stack.processes["gateway"].log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the refusal's reference is not in the gateway's log"
        time.sleep(0.1)
    line = next(x for x in stack.processes["gateway"].log_path.read_text().splitlines() if ref in x)
    assert '"INFO"' in line or "INFO" in line
    assert "state_invalid" in line


def test_oidc_only_hides_email_codes(sso, tmp_path):
    """`login_methods: [oidc]`: the email-code routes answer 404 (no way around the provider)."""
    import yaml

    stack, _ = sso
    config = dict(stack.config, login_methods=["oidc"])
    path = tmp_path / "oidc-only.yaml"
    path.write_text(yaml.safe_dump(config))
    replica = stack.launch("gateway", key="ssoonly", env={"OFFICE_BOOKER_CONFIG": str(path)})
    try:
        stack.wait_ready()
        assert requests.get(replica.url + "/api/auth/methods", timeout=10).json()["login_methods"] == ["oidc"]
        r = requests.post(replica.url + "/api/auth/code", json={"email": "x@my-company.example"}, timeout=10)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        r = requests.post(replica.url + "/api/auth/verify", json={"email": "x@my-company.example", "code": "123456"},
                          timeout=10)
        assert r.status_code == 404
        assert requests.get(replica.url + "/api/auth/oidc/start", allow_redirects=False, timeout=10).status_code == 302
    finally:
        stack.processes.pop("ssoonly").stop()


def test_routes_are_404_without_oidc(stack):
    methods = requests.get(stack.url("/api/auth/methods"), timeout=10).json()
    assert methods == {"login_methods": ["otac"], "oidc_provider_name": None}
    for path in ("/api/auth/oidc/start?next=/", "/api/auth/oidc/callback?code=x&state=y"):
        r = requests.get(stack.url(path), allow_redirects=False, timeout=10)
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_the_web_app_explains_every_reason():
    """Each reason the callback can send has its own message on the sign-in page (web/src/lib/sso.ts;
    `sign_in_failed`, a bug, gets the generic one)."""
    from gateway.oidc import REASONS

    from .support.stack import REPO

    cases = set(re.findall(r'case "([a-z_]+)"', (REPO / "web" / "src" / "lib" / "sso.ts").read_text()))
    assert cases == set(REASONS) - {"sign_in_failed"}
