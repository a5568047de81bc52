"""A real OpenID provider for the single sign-on tests (SPEC §16): panva's certified
`oidc-provider` (npm, tests/oidc/), started with node, and a stack configured to use it.

Nothing here imitates a provider: the provider is the real one with its documented options
(clients, signing keys, ID token lifetime, its development login and consent pages); the tests
change its keys (rotation), its clock (expired tokens) or a person's groups by restarting it or
rewriting its accounts file, as an operator would.
"""
from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from joserfc.jwk import RSAKey

from .fixtures import running_stack
from .infra import free_port
from .stack import REPO, Stack

PROVIDER_DIR = REPO / "tests" / "oidc"
CLIENT_ID = "office-booker"
CLIENT_SECRET = "office-booker-test-client-secret"
OTHER_CLIENT_ID = "other-app"  # a client the provider knows and Office Booker does not
OTHER_CLIENT_SECRET = "other-app-test-client-secret"
PROVIDER_NAME = "Example SSO"
GROUP_OFFICES = {"alpha-admins": ["alpha"], "site-admins": ["alpha", "beta"], "unknown-office": ["nowhere"]}


def signing_key(kid: str) -> dict:
    """A new RSA signing key (private JWK) named `kid`."""
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)
    return dict(key.as_dict(private=True))


class OidcProvider:
    """The node process of tests/oidc/provider.mjs and its settings file."""

    def __init__(self, workdir: Path, port: int | None = None):
        node = shutil.which("node")
        assert node and (PROVIDER_DIR / "node_modules" / "oidc-provider").exists(), \
            "node and oidc-provider are needed (./ob test runs npm ci in tests/oidc)"
        self.node = node
        self.workdir = workdir
        self.port = port or free_port()
        self.settings_path = workdir / "oidc-provider.json"
        self.log_path = workdir / "oidc-provider.log"
        self.settings: dict = {"port": self.port, "clients": [], "accounts": {}, "keys": [signing_key("key-1")],
                               "id_token_ttl": 300, "clock_offset": 0}
        self.popen: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def register_clients(self, redirect_uri: str) -> None:
        self.settings["clients"] = [
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri]},
            {"client_id": OTHER_CLIENT_ID, "client_secret": OTHER_CLIENT_SECRET, "redirect_uris": [redirect_uri]},
        ]

    def _write(self) -> None:
        tmp = self.settings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.settings))
        tmp.replace(self.settings_path)  # the provider re-reads accounts: never a half-written file

    def set_account(self, login: str, email: str, groups: list[str] | None = None,
                    email_verified: bool | None = True) -> None:
        """A person at the provider (`login` on its login page); rewritten while it runs."""
        claims: dict = {"email": email, "name": login}
        if email_verified is not None:
            claims["email_verified"] = email_verified
        if groups is not None:
            claims["groups"] = groups
        self.settings["accounts"][login] = claims
        self._write()

    def start(self, timeout: float = 30) -> OidcProvider:
        self._write()
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen([self.node, str(PROVIDER_DIR / "provider.mjs"), str(self.settings_path)],
                                      cwd=PROVIDER_DIR, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"oidc-provider exited with {self.popen.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.issuer + "/.well-known/openid-configuration", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"oidc-provider not ready:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen = None

    def restart(self, **settings) -> None:
        """Stop, change settings (keys, clock_offset, id_token_ttl) and start again on the same port."""
        self.stop()
        self.settings.update(settings)
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def oidc_config(provider: OidcProvider, **extra) -> dict:
    return {"login_methods": ["otac", "oidc"],
            "oidc": {"issuer": provider.issuer, "client_id": CLIENT_ID,
                     "scopes": ["openid", "email", "profile", "groups"],
                     "group_offices": GROUP_OFFICES, "provider_name": PROVIDER_NAME, **extra}}


@contextlib.contextmanager
def oidc_stack(database_server: str, amqp_server: str, workdir: Path) -> Iterator[tuple[Stack, OidcProvider]]:
    """A running provider and a whole stack that signs in with it (and with email codes)."""
    provider = OidcProvider(workdir)
    with running_stack(database_server, amqp_server, workdir, oidc_config(provider),
                       extra_env={"OIDC_CLIENT_SECRET": CLIENT_SECRET}) as stack:
        provider.register_clients(stack.gateway_url + "/api/auth/oidc/callback")
        provider.start()
        try:
            yield stack, provider
        finally:
            provider.stop()


# ------------------------------------------------------------------ the flow over HTTP


def cookie_value(response: requests.Response, name: str) -> str | None:
    """A cookie the response sets (read from Set-Cookie: requests keeps Secure cookies from
    http:// URLs but never sends them back, so the tests carry the gateway's cookies themselves)."""
    for header in response.raw.headers.getlist("Set-Cookie"):
        match = re.match(rf"\s*{re.escape(name)}=([^;]*)", header)
        if match:
            return match.group(1)
    return None


class Flow:
    """One browser's sign-in through the gateway and the provider, step by step, over HTTP."""

    def __init__(self, stack: Stack, next_path: str = "/"):
        self.stack = stack
        self.http = requests.Session()  # the provider's own cookies
        self.state_cookie: str | None = None
        start = self.http.get(stack.url("/api/auth/oidc/start"), params={"next": next_path}, allow_redirects=False,
                              timeout=10)
        assert start.status_code == 302, (start.status_code, start.text)
        self.start = start
        self.authorize_url = start.headers["Location"]
        self.state_cookie = cookie_value(start, "ob_oidc")

    @property
    def params(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.authorize_url).query).items()}

    def at_provider(self, login: str, authorize_url: str | None = None, cancel: bool = False) -> str:
        """Sign in as `login` on the provider's pages and consent; the URL it sends the browser
        back to (the gateway's callback, not followed)."""
        url = authorize_url or self.authorize_url
        for _ in range(12):
            r = self.http.get(url, allow_redirects=False, timeout=10)
            if r.status_code in (302, 303):
                url = urljoin(url, r.headers["Location"])
                if url.startswith(self.stack.gateway_url):
                    return url
                continue
            assert r.status_code == 200, (r.status_code, r.text[:500])
            form = re.search(r'<form[^>]*action="([^"]+)"', r.text)
            assert form, r.text[:500]
            action = urljoin(url, form.group(1).replace("&amp;", "&"))
            if 'name="login"' in r.text:
                data = {"prompt": "login", "login": login, "password": "any password"}
            else:
                if cancel:
                    abort = re.search(r'href="([^"]*/abort)"', r.text)
                    assert abort, r.text[:800]
                    url = urljoin(url, abort.group(1))
                    continue
                data = {"prompt": "consent"}
            r = self.http.post(action, data=data, allow_redirects=False, timeout=10)
            assert r.status_code in (302, 303), (r.status_code, r.text[:500])
            url = urljoin(action, r.headers["Location"])
            if url.startswith(self.stack.gateway_url):
                return url
        raise AssertionError(f"the provider never sent the browser back (last {url})")

    def callback(self, url: str, state_cookie: str | None | bool = True) -> requests.Response:
        """Follow the provider's redirect to the gateway's callback, with this browser's state
        cookie (`state_cookie`: True = the flow's own, a string = that value, None = none)."""
        value = self.state_cookie if state_cookie is True else state_cookie
        headers = {"Cookie": f"ob_oidc={value}"} if value else {}
        return requests.get(url, headers=headers, allow_redirects=False, timeout=15)


def refusal(response: requests.Response) -> str | None:
    """The reason of a redirect to the sign-in page (`/signin?error=<reason>`), else None."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    location = urlsplit(response.headers["Location"])
    if location.path != "/signin":
        return None
    query = parse_qs(location.query)
    assert query.get("ref"), location  # a reference to find the log line
    return query["error"][0]


def signed_in(response: requests.Response) -> tuple[str, str]:
    """(session token, redirect target) of a successful callback."""
    assert response.status_code == 302, (response.status_code, response.text[:300])
    token = cookie_value(response, "ob_session")
    assert token, (response.headers.get("Location"), response.headers.get("Set-Cookie"))
    return token, response.headers["Location"]


def me(stack: Stack, token: str) -> dict:
    r = requests.get(stack.url("/api/me"), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()
