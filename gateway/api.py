"""The REST API under /api (SPEC §9)."""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, make_response, request
from pydantic import BaseModel, ValidationError

from obcommon import __version__
from obcommon.emails import is_valid_email, normalize_email
from services.booking import rules as booking_rules

from . import openapi
from .auth import CSRF_COOKIE, SESSION_COOKIE, csrf_token, current_caller, require_writable, session_id_for
from .errors import ApiError
from .schemas import (
    CodeRequest,
    ConfigResponse,
    ErrorBody,
    LoginMethods,
    Office,
    OfficeListQuery,
    OfficeWithSlots,
    User,
    VerifyRequest,
    VerifyResponse,
)

api = Blueprint("api", __name__, url_prefix="/api")


def ob():
    return current_app.extensions["ob"]


def endpoint(path: str, method: str, summary: str, *, auth: bool = True, write: bool = False, body=None,
             query=None, responses: dict | None = None, allow: Callable | None = None,
             field_errors: bool = False) -> Callable:
    """Register a route and its OpenAPI operation from the same models.

    Checks run in SPEC §10's order: authentication (401), read-only mode for writes (503), then
    `allow(caller)` for endpoints only some roles may call (403), then the body and query models,
    then the view's own rules. `field_errors`: a bad body's 400 message names each bad field
    (instead of "Bad request body")."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if auth:
                current_caller()
            if write:
                require_writable()
            if allow is not None and not allow(current_caller()):
                raise ApiError(403, "Forbidden")
            reject_nul_characters(kwargs)
            if body is not None:
                g.body = parse_body_fields(body) if field_errors else parse_body(body)
            if query is not None:
                g.query = parse_query(query)
            return view(*args, **kwargs)

        api.add_url_rule(path, endpoint=view.__name__, view_func=wrapper, methods=[method])
        openapi.register(openapi.Operation("/api" + path, method, summary, auth, body, query, responses or {},
                                           write=write))
        return wrapper

    return decorate


MAX_JSON_DEPTH = 32  # our bodies are flat objects; nothing legitimate nests deeper


def _no_duplicate_keys(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):  # parsers disagree on which one wins: refuse, never guess
        raise ValueError("duplicate key")
    return dict(pairs)


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")  # NaN, Infinity: Python's parser would accept them


def _too_deep(raw: bytes) -> bool:
    """Whether the JSON text nests more than MAX_JSON_DEPTH arrays/objects (counted outside
    strings), checked before parsing so a hostile body cannot exhaust the parser's recursion."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def load_json_body(message: str = "Bad request body") -> Any:
    """The request's JSON body, or 400 `message` for anything that is not one well-formed JSON
    document in UTF-8: bad syntax or encoding, nesting deeper than MAX_JSON_DEPTH, duplicate keys,
    numbers too large to convert (never a 500)."""
    raw = request.get_data(cache=True) or b""
    if _too_deep(raw):
        raise ApiError(400, message, code="bad_request_body")
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_not_json)
        if b"\\ud" in raw.lower():  # a lone surrogate escape decodes, but is no text: refuse it
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        return data
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        raise ApiError(400, message, code="bad_request_body") from None


def parse_body(model: type[BaseModel], message: str = "Bad request body") -> BaseModel:
    if not request.is_json:
        raise ApiError(415, "Expected a JSON body")
    data = load_json_body(message)
    if not isinstance(data, dict):
        raise ApiError(400, message, code="bad_request_body")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError:
        raise ApiError(400, message, code="bad_request_body") from None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def reject_nul_characters(view_args: dict) -> None:
    """NUL characters cannot be stored (PostgreSQL text and JSON refuse them) and are never
    meaningful input: a path, query or JSON body carrying one is a 400, never a 500."""
    if _has_nul(view_args) or (request.query_string and any(
            _has_nul(k) or _has_nul(v) for k, v in request.args.items(multi=True))):
        raise ApiError(400, "Bad request")
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.is_json:
        raw = request.get_data(cache=True)
        if b"\\u0000" in raw.lower():
            if _has_nul(load_json_body()):
                raise ApiError(400, "Bad request body", code="bad_request_body")


def parse_body_fields(model: type[BaseModel]) -> BaseModel:
    """Like parse_body, but a validation error's message names each bad field."""
    from obcommon.validation import describe

    if not request.is_json:
        raise ApiError(415, "Expected a JSON body")
    data = load_json_body()
    if not isinstance(data, dict):
        raise ApiError(400, "Bad request body", code="bad_request_body")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise ApiError(400, describe(exc), code="invalid_field") from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError:
        raise ApiError(400, "Bad query parameters", code="bad_query") from None


def rpc():
    return ob().rpc.client()


def client_address() -> str:
    # ProxyFix (installed when trusted_proxies > 0) has already applied X-Forwarded-For.
    return request.remote_addr or "unknown"


# ------------------------------------------------------------------ public


@endpoint("/config", "GET", "What the web app needs", auth=False, responses={200: ConfigResponse})
def get_config():
    cfg, env = ob().config, ob().env
    response = jsonify(ConfigResponse(version=__version__, email_regex=cfg.email_regex,
                                      advance_booking_days=cfg.advance_booking_days,
                                      reason_to_book_required=cfg.reason_to_book_required,
                                      show_test_banner=cfg.show_test_banner).model_dump())
    if env.local_development:
        # The body's fields are a contract; the sign-in page's hint on where to read codes in
        # local development travels in a header (empty: the codes are only in the log).
        response.headers["X-Dev-Mailbox"] = f"http://{env.dev_mailbox_http}/" if env.dev_mailbox_http else ""
    return response


@endpoint("/auth/methods", "GET", "How people sign in here (SPEC §16)", auth=False, responses={200: LoginMethods})
def get_login_methods():
    cfg = ob().config
    oidc = cfg.oidc is not None and "oidc" in cfg.login_methods
    return jsonify(LoginMethods(login_methods=list(cfg.login_methods),
                                oidc_provider_name=cfg.oidc.provider_name if oidc and cfg.oidc else None).model_dump())


@endpoint("/openapi.json", "GET", "This document", auth=False, responses={200: {"type": "object"}})
def get_openapi():
    return jsonify(openapi.document())


# ------------------------------------------------------------------ login


def require_login_method(method: str) -> None:
    """SPEC §16: a sign-in method not in `login_methods` does not exist (404): with `[oidc]` only,
    nobody can get around the company's identity provider with an email code."""
    if method not in ob().config.login_methods:
        raise ApiError(404, "Not Found")


@endpoint("/auth/code", "POST", "Email a one-time sign-in code", auth=False, body=CodeRequest,
          responses={202: None, 404: ErrorBody, 429: ErrorBody})
def request_code():
    require_login_method("otac")
    email = normalize_email(g.body.email)
    if not is_valid_email(email):
        raise ApiError(400, "Invalid email address", code="invalid_email")
    with rpc() as services:
        services.identity.request_code(email, client_address())
    # The same answer whether or not the address is allowed (no enumeration).
    return "", 202


@endpoint("/auth/verify", "POST", "Exchange a code for a session", auth=False, body=VerifyRequest,
          responses={200: VerifyResponse, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody})
def verify_code():
    require_login_method("otac")
    email = normalize_email(g.body.email)
    code = g.body.code.strip()
    if not is_valid_email(email):
        raise ApiError(400, "Invalid email address", code="invalid_email")
    if not (len(code) == 6 and code.isdigit()):
        raise ApiError(401, "Incorrect code", code="invalid_code")
    with rpc() as services:
        result = services.identity.verify_code(email, code, client_address())
    response = make_response(jsonify({"token": result["token"], "user": result["user"]}))
    set_session_cookies(response, result)
    return response


def set_session_cookies(response, result: dict) -> None:
    """The session cookie and its CSRF cookie (SPEC §2) of a new session (identity's answer
    `{token, session_id, expires_at}`): after a code, or a sign-in with the identity provider."""
    expires = datetime.fromisoformat(result["expires_at"])
    secure = not ob().env.local_development
    response.set_cookie(SESSION_COOKIE, result["token"], expires=expires, httponly=True, samesite="Lax",
                        secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf_token(result["session_id"]), expires=expires, httponly=False,
                        samesite="Lax", secure=secure, path="/")


@endpoint("/auth/logout", "POST", "End this session on every replica", responses={204: None})
def logout():
    caller = current_caller()
    with rpc() as services:
        services.identity.logout(caller.session_id)
    ob().sessions.evict_session(caller.session_id)
    response = make_response("", 204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@endpoint("/me", "GET", "The signed-in user", responses={200: User})
def me():
    return jsonify(current_caller().user)


# ------------------------------------------------------------------ users


@endpoint("/users/<email>", "GET", "One user (self or admins)", responses={200: User, 403: ErrorBody, 404: ErrorBody})
def get_user(email: str):
    caller = current_caller()
    email = normalize_email(email)
    if email != caller.email and not caller.permissions["can_view_users"]:
        raise ApiError(403, "Forbidden")
    if email == caller.email:
        return jsonify(caller.user)
    with rpc() as services:
        return jsonify(services.identity.get_user(email))


# ------------------------------------------------------------------ offices


def bookable_dates(office: dict, advance: int | None = None) -> tuple[str, ...]:
    """The office's bookable window (SPEC §4 rule 6), from the rule booking decides with
    (`advance`: ADVANCE_BOOKING_DAYS, the app's when not given)."""
    timezone = office["timezone"]
    advance = ob().config.advance_booking_days if advance is None else advance
    now = datetime.now(UTC)
    key = (timezone, advance, booking_rules.office_today(now, timezone))
    dates = _windows.get(key)
    if dates is None:
        if len(_windows) > 1000:  # one entry per time zone and day: emptied now and then
            _windows.clear()
        dates = _windows[key] = tuple(d.isoformat() for d in booking_rules.bookable_days(now, timezone, advance))
    return dates


_windows: dict[tuple[str, int, date], tuple[str, ...]] = {}  # the windows computed, by zone and day


@endpoint("/offices", "GET", "Active offices (admins: ?include_retired=true)", query=OfficeListQuery,
          responses={200: [Office]})
def list_offices():
    caller = current_caller()
    include_retired = g.query.include_retired == "true" and caller.is_admin
    offices = ob().availability.offices()  # the gateway's read model (gateway/readmodel.py)
    return jsonify([o for o in offices if include_retired or not o["retired"]])


@endpoint("/offices/<office_id>", "GET", "One office with its availability", responses={200: OfficeWithSlots})
def get_office(office_id: str):
    availability = ob().availability
    office = availability.office(office_id)
    if office is None:
        raise ApiError(404, "Not Found")
    body = availability.office_document(office_id, bookable_dates(office), _render_json)
    if body is None:
        raise ApiError(404, "Not Found")
    return current_app.response_class(body, mimetype="application/json")


def answer_held_reads(app: Flask, metric: Callable[[str, str, str], tuple[Any, Any]]) -> None:
    """GET /api/offices/{id}, the hottest read (every employee's app shows it), answered without
    Flask's request machinery when all it needs is held in this process: the caller's session in
    the session cache and the office's body, rendered by `get_office`, in the read model (both
    kept current by events, gateway/sessions.py and gateway/readmodel.py). Anything else — no
    session or one not held, a body not rendered yet or out of date, a query string, tracing on —
    goes through Flask, which answers the same bytes and fills both caches. The answer's headers
    are Flask's for that body; the edge (gateway/app.py `_register_edge`) adds the rest, and the
    request is counted in the same metrics (`metric(method, route, status)` -> (counter, timer)).
    Issue 16: ~1.7 x the reads per second of the Flask route (docs/benchmarks.md)."""
    from werkzeug.http import parse_cookie

    from obcommon import tracing

    if tracing.enabled():  # every request a span: through Flask and its instrumentation
        return
    state, inner, prefix = app.extensions["ob"], app.wsgi_app, "/api/offices/"
    advance = state.config.advance_booking_days
    counter, timer = metric("GET", "/api/offices/<office_id>", "200")

    def window(office: dict) -> tuple[str, ...]:
        return bookable_dates(office, advance)

    def held(environ: dict) -> bytes | None:
        office_id = environ.get("PATH_INFO", "")[len(prefix):]
        if not office_id.isascii() or "/" in office_id or "\x00" in office_id:
            return None
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
        else:
            token = parse_cookie(environ.get("HTTP_COOKIE", "")).get(SESSION_COOKIE, "")
        if not token or len(token) > 200 or state.sessions.held(session_id_for(token)) is None:
            return None
        return state.availability.held_document(office_id, window)

    def wsgi(environ: dict, start_response: Callable) -> Any:
        if (environ["REQUEST_METHOD"] == "GET" and not environ.get("QUERY_STRING")
                and environ.get("PATH_INFO", "").startswith(prefix)):
            body = held(environ)
            if body is not None:
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                counter.inc()
                started = environ.get("ob.started")
                if started is not None:
                    timer.observe(time.perf_counter() - started)
                return [body]
        return inner(environ, start_response)

    app.wsgi_app = wsgi  # type: ignore[method-assign]


def _render_json(document: dict) -> bytes:
    """What `jsonify(document)` answers, as bytes (kept by the read model until it changes)."""
    response = current_app.json.response(document)
    assert isinstance(response, Response)
    return response.get_data()
