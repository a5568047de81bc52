"""Sign-in with the company's OpenID provider (SPEC §16): `GET /api/auth/oidc/start` and
`GET /api/auth/oidc/callback`.

The authorization code flow with PKCE (S256), `state` and `nonce` (Authlib's OAuth2 client); the
ID token is checked with joserfc (Authlib's JOSE successor): its signature against the provider's
JWKS (an unknown `kid` fetches the JWKS again, once, so key rotation is followed), `iss`, `aud`
(and `azp` when there are several audiences), `exp`, `iat` and `nonce`. Discovery
(`{issuer}/.well-known/openid-configuration`) and the JWKS are cached per replica for an hour.

Between the two requests, state, nonce, PKCE verifier and `next` travel in the `ob_oidc` cookie:
signed (itsdangerous, key derived from SECRET_KEY for "oidc-state"), HttpOnly, SameSite=Lax, for
/api/auth/oidc only, valid 10 minutes, single use (the callback always deletes it, and the replica
remembers the states it has consumed; a code the provider already redeemed is refused by the
provider itself).

Every failure of the callback redirects to `/signin?error=<reason>&ref=<reference>` (REASONS),
logged at INFO with the reference; it is never a 500. Both routes answer 404 when `oidc` is not
in `login_methods`.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import requests
from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from nameko.exceptions import RemoteError
from prometheus_client import Counter

from obcommon.config import AppConfig, OidcConfig
from obcommon.emails import is_valid_email, normalize_email
from obcommon.messaging import DependencyUnavailable as ServiceDependencyUnavailable
from services.identity.exceptions import AccountDisabled, DependencyUnavailable, UserNotFound

from .api import endpoint, ob, rpc, set_session_cookies
from .errors import DEPENDENCY_DOWN, REMOTE_DEPENDENCY_DOWN, ApiError, reference
from .schemas import ErrorBody

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc.jwk import KeySet
# authlib and joserfc (with `cryptography`: ~13 MB of memory per gateway process) are imported
# where a sign-in with the provider uses them, so a gateway without OIDC never loads them.

log = logging.getLogger("gateway.oidc")

STATE_COOKIE = "ob_oidc"
STATE_PATH = "/api/auth/oidc"
STATE_MAX_AGE = 600  # seconds: the time a person has to sign in at the provider
CALLBACK_PATH = "/api/auth/oidc/callback"
HTTP_TIMEOUT = (5, 10)  # connect, read (seconds) for discovery, JWKS and the token endpoint
METADATA_TTL = 3600  # seconds a replica keeps the discovery document and the JWKS
CLOCK_SKEW = 60  # seconds of leeway for exp / iat between the provider's clock and ours
MAX_NEXT = 2000
# Signature algorithms accepted for ID tokens: asymmetric only (never `none`, never HS* keyed
# with the client secret), intersected with what the provider's discovery document announces.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")

# The reasons the sign-in page explains (web/src/pages/SignIn.tsx); stable, part of the contract.
REASONS = {
    "access_denied": "the person cancelled at the provider, or the provider refused them",
    "provider_error": "the provider answered with an error (authorization or token endpoint)",
    "provider_unavailable": "the provider could not be reached (discovery, JWKS, token endpoint)",
    "state_invalid": "no sign-in in progress in this browser: the state cookie is missing, forged, expired, "
                     "already used or for another attempt",
    "token_invalid": "the ID token failed a check (signature, issuer, audience, expiry, nonce)",
    "email_missing": "the ID token carries no email address in the configured claim",
    "email_unverified": "the provider says the email address is not verified",
    "email_not_allowed": "the email address does not match email_regex",
    "account_disabled": "the account is disabled (SCIM active: false)",
    "service_unavailable": "Office Booker's own services are unavailable: try again",
    "sign_in_failed": "an unexpected error (a bug: see the reference in the log)",
}
SIGN_INS = Counter("ob_oidc_sign_ins_total", "OpenID Connect sign-ins by outcome (ok or a refusal reason)",
                   ["outcome"])


class Refused(Exception):
    """The sign-in cannot go on: redirect to the sign-in page with `reason` (REASONS)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        assert reason in REASONS, reason
        self.reason = reason
        self.detail = detail


# ------------------------------------------------------------------ provider metadata


class Provider:
    """Discovery document and JWKS of one issuer, cached for METADATA_TTL (per replica)."""

    def __init__(self, issuer: str, ttl: float = METADATA_TTL):
        self.issuer = issuer
        self.ttl = ttl
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    def _get_json(self, url: str, what: str) -> dict:
        try:
            r = requests.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise Refused("provider_unavailable", f"{what} {url}: {type(exc).__name__}") from None
        if r.status_code != 200:
            raise Refused("provider_unavailable", f"{what} {url}: HTTP {r.status_code}")
        try:
            data = r.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise Refused("provider_unavailable", f"{what} {url}: not a JSON object")
        return data

    def metadata(self) -> dict:
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < self.ttl:
                return self._metadata
        data = self._get_json(self.issuer + "/.well-known/openid-configuration", "discovery")
        # OpenID Connect Discovery §4.3: the document is the issuer's own.
        if str(data.get("issuer", "")).rstrip("/") != self.issuer:
            raise Refused("provider_error", f"discovery names issuer {data.get('issuer')!r}, not {self.issuer!r}")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(name), str) or not data[name].startswith(("https://", "http://")):
                raise Refused("provider_error", f"discovery has no usable {name}")
        with self._lock:
            self._metadata, self._metadata_at = data, time.monotonic()
        return data

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if not refresh and self._keys is not None and time.monotonic() - self._keys_at < self.ttl:
                return self._keys
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        data = self._get_json(self.metadata()["jwks_uri"], "JWKS")
        try:
            keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise Refused("provider_error", f"JWKS not usable: {exc}") from None
        with self._lock:
            self._keys, self._keys_at = keys, time.monotonic()
        return keys

    def key_for(self, kid: str | None) -> KeySet:
        """The key set, fetched again once when it has no key `kid` (the provider rotated)."""
        keys = self.keys()
        if kid is not None and not any(k.kid == kid for k in keys):
            log.info("ID token signed with unknown key %r: fetching the JWKS again", kid)
            keys = self.keys(refresh=True)
        return keys

    def algorithms(self) -> list[str]:
        announced = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        return [a for a in SIGNING_ALGORITHMS if a in announced]


class UsedStates:
    """The states this replica has consumed (single use), remembered while their cookie is valid."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def consume(self, state: str) -> bool:
        """True the first time `state` is seen (within STATE_MAX_AGE)."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) >= self.limit:
                for key in [k for k, until in self._seen.items() if until < now]:
                    del self._seen[key]
                while len(self._seen) >= self.limit:  # still full: forget the oldest
                    del self._seen[next(iter(self._seen))]
            if state in self._seen and self._seen[state] >= now:
                return False
            self._seen[state] = now + STATE_MAX_AGE + 5
            return True


class OidcState:
    """Per app: the provider's cached metadata and the consumed states."""

    def __init__(self, oidc: OidcConfig):
        self.provider = Provider(oidc.issuer)
        self.used = UsedStates()


def oidc_config() -> OidcConfig:
    """The provider's configuration; 404 when sign-in with it is not on."""
    cfg: AppConfig = ob().config
    if "oidc" not in cfg.login_methods or cfg.oidc is None:
        raise ApiError(404, "Not Found")
    return cfg.oidc


def state_of_app(oidc: OidcConfig) -> OidcState:
    extensions = current_app.extensions
    state = extensions.get("ob_oidc")
    if state is None:
        state = extensions.setdefault("ob_oidc", OidcState(oidc))
    return state


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ob().env.derive_key("oidc-state"), salt="ob-oidc-state")


def redirect_uri() -> str:
    """Where the provider sends people back: `<web_url>/api/auth/oidc/callback` when web_url is
    configured (behind a proxy that terminates TLS the request's own URL says http), else this
    request's origin."""
    base = ob().config.web_url or request.host_url
    return base.rstrip("/") + CALLBACK_PATH


def safe_next(value: str | None) -> str:
    """`next` when it is a path on this origin, else "/" (no open redirect)."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def oauth_client(oidc: OidcConfig, metadata: dict) -> OAuth2Session:
    from authlib.integrations.requests_client import OAuth2Session

    secret = ob().env.oidc_client_secret
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if not secret:
        method = "none"  # a public client: PKCE alone
    elif "client_secret_basic" in supported:
        method = "client_secret_basic"
    elif "client_secret_post" in supported:
        method = "client_secret_post"
    else:
        method = "client_secret_basic"
    return OAuth2Session(client_id=oidc.client_id, client_secret=secret, token_endpoint_auth_method=method,
                         scope=" ".join(oidc.scopes), redirect_uri=redirect_uri(), code_challenge_method="S256",
                         default_timeout=HTTP_TIMEOUT)


def redirect(location: str) -> Response:
    response = Response(status=302)
    response.headers["Location"] = location
    return response


def refused(exc: Refused) -> Response:
    ref = reference()
    SIGN_INS.labels(exc.reason).inc()
    level = logging.ERROR if exc.reason == "sign_in_failed" else logging.INFO
    log.log(level, "OpenID sign-in refused (%s): %s", exc.reason, exc.detail,
            extra={"reference": ref, "status": 302, "reason": exc.reason})
    return redirect("/signin?" + urlencode({"error": exc.reason, "ref": ref}))


# ------------------------------------------------------------------ routes


@endpoint("/auth/oidc/start", "GET", "Sign in with the company's identity provider: 302 to it (SPEC §16; "
          "404 when not configured)", auth=False, responses={302: None, 404: ErrorBody})
def oidc_start():
    oidc = oidc_config()
    state = state_of_app(oidc)
    target = safe_next(request.args.get("next"))
    try:
        metadata = state.provider.metadata()
    except Refused as exc:
        return refused(exc)
    flow = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
            "verifier": secrets.token_urlsafe(64), "next": target}
    url, _ = oauth_client(oidc, metadata).create_authorization_url(
        metadata["authorization_endpoint"], state=flow["state"], code_verifier=flow["verifier"], nonce=flow["nonce"])
    response = redirect(url)
    response.set_cookie(STATE_COOKIE, serializer().dumps(flow), max_age=STATE_MAX_AGE, httponly=True,
                        samesite="Lax", secure=not ob().env.local_development, path=STATE_PATH)
    return response


@endpoint("/auth/oidc/callback", "GET", "Where the identity provider returns: session cookies and 302 to `next`; "
          "any failure 302 to /signin?error=<reason> (SPEC §16; 404 when not configured)", auth=False,
          responses={302: None, 404: ErrorBody})
def oidc_callback():
    oidc = oidc_config()
    try:
        response = finish_sign_in(oidc, state_of_app(oidc))
        SIGN_INS.labels("ok").inc()
    except Refused as exc:
        response = refused(exc)
    except Exception as exc:  # noqa: BLE001 - never a 500: the person lands on the sign-in page
        log.exception("OpenID sign-in failed unexpectedly", extra={"reference": reference()})
        response = refused(Refused("sign_in_failed", f"{type(exc).__name__}"))
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH, httponly=True, samesite="Lax",
                           secure=not ob().env.local_development)
    return response


def finish_sign_in(oidc: OidcConfig, app_state: OidcState) -> Response:
    flow = read_flow()
    args = request.args
    if args.get("error"):
        error = str(args.get("error"))[:100]
        description = str(args.get("error_description") or "")[:300]
        reason = "access_denied" if error == "access_denied" else "provider_error"
        raise Refused(reason, f"the provider answered {error}: {description}")
    if not hmac.compare_digest(str(args.get("state", "")).encode(), flow["state"].encode()):
        raise Refused("state_invalid", "the state parameter does not match this browser's sign-in")
    if not app_state.used.consume(flow["state"]):
        raise Refused("state_invalid", "this sign-in was already completed (state used)")
    provider = app_state.provider
    metadata = provider.metadata()
    # RFC 9207: a provider that names itself in the response must be ours (mix-up defence).
    if "iss" in args and args["iss"] != metadata["issuer"]:
        raise Refused("provider_error", f"the response names issuer {args['iss']!r}")
    code = args.get("code")
    if not code:
        raise Refused("provider_error", "the response carries no code")
    tokens = exchange_code(oidc, metadata, code, flow["verifier"])
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise Refused("token_invalid", "the token response has no ID token")
    claims = verify_id_token(provider, metadata, oidc.client_id, id_token, flow["nonce"])
    email, groups = identity_of(oidc, claims)
    try:
        with rpc() as services:
            result = services.identity.oidc_sign_in(email, groups)
    except AccountDisabled:
        raise Refused("account_disabled", f"{email}: account disabled") from None
    except UserNotFound:
        raise Refused("email_not_allowed", f"{email}: not allowed by email_regex") from None
    except (DependencyUnavailable, ServiceDependencyUnavailable, *DEPENDENCY_DOWN) as exc:
        raise Refused("service_unavailable", f"identity: {type(exc).__name__}") from None
    except RemoteError as exc:
        raise Refused("service_unavailable" if exc.exc_type in REMOTE_DEPENDENCY_DOWN else "sign_in_failed",
                      f"identity: {exc.exc_type}") from None
    log.info("OpenID sign-in of %s", email, extra={"reference": reference()})
    response = redirect(flow["next"])
    set_session_cookies(response, result)
    return response


def read_flow() -> dict[str, str]:
    raw = request.cookies.get(STATE_COOKIE)
    if not raw:
        raise Refused("state_invalid", "no sign-in in progress in this browser (no state cookie)")
    try:
        flow = serializer().loads(raw, max_age=STATE_MAX_AGE)
    except BadSignature as exc:  # SignatureExpired is one too
        raise Refused("state_invalid", f"state cookie refused: {type(exc).__name__}") from None
    if not isinstance(flow, dict) or not all(isinstance(flow.get(k), str) for k in ("state", "nonce", "verifier",
                                                                                   "next")):
        raise Refused("state_invalid", "state cookie malformed")
    flow["next"] = safe_next(flow["next"])
    return flow


def exchange_code(oidc: OidcConfig, metadata: dict, code: str, verifier: str) -> dict:
    from authlib.integrations.base_client import OAuthError

    client = oauth_client(oidc, metadata)
    try:
        tokens = client.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                    code_verifier=verifier)
    except OAuthError as exc:  # the provider refused: a used, expired or foreign code, a wrong secret
        raise Refused("provider_error", f"token endpoint: {exc.error}: {exc.description}") from None
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        raise Refused("provider_unavailable" if status >= 500 or status == 0 else "provider_error",
                      f"token endpoint: HTTP {status}") from None
    except (requests.RequestException, ValueError) as exc:
        raise Refused("provider_unavailable", f"token endpoint: {type(exc).__name__}") from None
    finally:
        client.close()
    return dict(tokens)


def verify_id_token(provider: Provider, metadata: dict, client_id: str, id_token: str, nonce: str,
                    now: float | None = None) -> dict[str, Any]:
    """The ID token's claims after every check OpenID Connect Core §3.1.3.7 asks of a client that
    received it from the token endpoint; Refused("token_invalid") otherwise."""
    from joserfc import jws, jwt
    from joserfc.errors import JoseError

    try:
        header = jws.extract_compact(id_token.encode()).headers()
    except (JoseError, ValueError, TypeError) as exc:
        raise Refused("token_invalid", f"ID token not a JWS: {exc}") from None
    algorithms = provider.algorithms()
    if header.get("alg") not in algorithms:
        raise Refused("token_invalid", f"ID token algorithm {header.get('alg')!r} not accepted ({algorithms})")
    keys = provider.key_for(header.get("kid"))
    try:
        token = jwt.decode(id_token, keys, algorithms=algorithms)
    except (JoseError, ValueError) as exc:
        raise Refused("token_invalid", f"ID token signature: {type(exc).__name__}: {exc}") from None
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        now=int(now if now is not None else time.time()), leeway=CLOCK_SKEW,
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise Refused("token_invalid", f"ID token claims: {type(exc).__name__}: {exc}") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise Refused("token_invalid", "ID token for several audiences without azp naming us")
    if "azp" in claims and claims["azp"] != client_id:
        raise Refused("token_invalid", f"ID token azp is {claims['azp']!r}")
    return claims


def identity_of(oidc: OidcConfig, claims: dict[str, Any]) -> tuple[str, list[str] | None]:
    """The email address (config `email_claim`) and the groups (`groups_claim`) of the ID token."""
    raw = claims.get(oidc.email_claim)
    if not isinstance(raw, str) or not raw.strip():
        raise Refused("email_missing", f"no {oidc.email_claim!r} claim in the ID token")
    verified = claims.get("email_verified")
    if verified is False or (isinstance(verified, str) and verified.strip().lower() == "false"):
        raise Refused("email_unverified", f"{raw}: email_verified is false")
    email = normalize_email(raw)
    if not is_valid_email(email) or not ob().config.email_allowed(email):
        raise Refused("email_not_allowed", f"{email}: not allowed by email_regex")
    value = claims.get(oidc.groups_claim)
    groups: list[str] | None
    if isinstance(value, list):
        groups = [str(g) for g in value if isinstance(g, str | int)]
    elif isinstance(value, str):
        groups = [value]
    else:
        groups = None
        names = claims.get("_claim_names")
        if isinstance(names, dict) and oidc.groups_claim in names:
            # Microsoft Entra ID's "groups overage": too many groups to list in the token.
            log.warning("the ID token of %s lists its groups elsewhere (overage): emit only the groups assigned to "
                        "the application", email, extra={"reference": reference()})
    return email, groups
