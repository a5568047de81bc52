"""Flask app factory (`create_app`) and the gateway's operational routes."""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, g, jsonify, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.middleware.proxy_fix import ProxyFix

from obcommon.config import AppConfig, Env, load_config
from obcommon.tracing import instrument_flask

from .errors import ApiError, register_error_handlers
from .events import GatewayEvents
from .live import EventHub
from .readmodel import Availability
from .rpc import RpcPool
from .sessions import EventListener, SessionCache

log = logging.getLogger("gateway")
WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

REQUESTS = Counter("ob_http_requests_total", "HTTP requests", ["method", "route", "status"])
# Metric labels come from closed sets: a made-up method is `other`, an unmatched path
# `unmatched`; routes are the app's own templates and statuses the codes it answers.
READINESS_CHECKS = Counter("ob_readiness_checks_total", "Dependency checks made for /readyz (at most one a second)")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY = Histogram("ob_http_request_duration_seconds", "HTTP request duration", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


@dataclass
class Gateway:
    """Per-app state, at `app.extensions["ob"]`."""

    config: AppConfig
    env: Env
    rpc: RpcPool
    sessions: SessionCache
    availability: Availability
    hub: EventHub
    listener: EventListener | None
    csrf_key: bytes


def _web_dir() -> Path:
    return (WEB_ROOT / "dist").resolve()  # only the built app is served (never web/'s sources)


def create_app(config: AppConfig | None = None, env: Env | None = None, listen: bool = True) -> Flask:
    config = config or load_config()
    env = env or Env.from_environ()
    app = Flask(__name__, static_folder=None)
    instrument_flask(app)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies)  # type: ignore[method-assign]

    pool = RpcPool(env.amqp_uri)

    def fetch_session(session_id: str):
        with pool.client() as services:
            return services.identity.get_session(session_id)

    sessions = SessionCache(fetch_session)

    def load_offices() -> list[dict]:
        with pool.client() as services:
            return services.offices.list_offices(include_retired=True, with_version=True)

    def load_slots(office_id: str, dates: list[str]) -> list[dict]:
        with pool.client() as services:
            return services.booking.get_slots(office_id, dates)

    availability = Availability(load_offices, load_slots)
    hub = EventHub()
    listener = None
    if listen:
        def on_connected(up: bool) -> None:
            sessions.clear()
            sessions.trusted = up
            availability.clear()
            availability.trusted = up

        listener = EventListener(env.amqp_uri, GatewayEvents(sessions, availability, hub).handlers(), on_connected)
        listener.start()
    app.extensions["ob"] = Gateway(config, env, pool, sessions, availability, hub, listener, env.derive_key("csrf"))

    # The routes register on the blueprint in this order, which is the OpenAPI document's.
    # isort: off
    from . import bookings, live, passes  # noqa: F401 - register their routes on the blueprint
    from . import checkins  # noqa: F401 - door codes, check-ins, release (SPEC §11)
    from . import users, admin  # noqa: F401 - users, offices admin, stats, audit, self-test
    from . import days  # noqa: F401 - day overrides and closures (SPEC §15)
    from . import waitlist  # noqa: F401 - the waitlist of full days (SPEC §12)
    from . import recurring  # noqa: F401 - regular days, range cancel, calendar feed (SPEC §14)
    from . import oidc  # noqa: F401 - sign-in with the company's identity provider (SPEC §16)
    # isort: on
    from .api import answer_held_reads, api

    app.register_blueprint(api)
    if env.scim_token:  # SPEC §16: /scim/v2, behind SCIM_TOKEN (else scim2_models, ~8 MB, is not loaded)
        from . import scim

        scim.mount(app, pool, env.scim_token, config.read_only)
    register_error_handlers(app)
    _register_ops_routes(app)
    _register_web_routes(app)
    _register_metrics(app)
    answer_held_reads(app, route_metrics)  # GET /api/offices/{id} from what this process holds
    _register_edge(app, env)  # last: it wraps everything above
    return app


def _register_ops_routes(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    readiness = ReadinessCache()

    @app.get("/readyz")
    def readyz():
        if app.config.get("OB_DRAINING"):  # stopping (gateway/server.py): take no new traffic
            return jsonify({"status": "draining", "checks": {}}), 503
        ok, checks = readiness.get(lambda: _check_dependencies(app.extensions["ob"]))
        return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), (200 if ok else 503)

    @app.get("/metrics")
    def metrics():
        return generate_latest(_metrics_registry()), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _metrics_registry() -> CollectorRegistry:
    """This process's metrics, or with several gateway processes (gateway/workers.py) the sum
    over all of them, from their files in PROMETHEUS_MULTIPROC_DIR."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class ReadinessCache:
    """At most one dependency check per `ttl` seconds per process, however often /readyz is
    called (each call opened a broker and a database connection). Concurrent callers
    during a check wait for it and share its answer."""

    def __init__(self, ttl: float = 1.0):
        import threading

        self.ttl = ttl
        self._at = float("-inf")
        self._answer: tuple[bool, dict] = (False, {})
        self._lock = threading.Lock()

    def get(self, check) -> tuple[bool, dict]:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                self._answer = check()
                self._at = time.monotonic()
            return self._answer


def _check_dependencies(state: Gateway) -> tuple[bool, dict]:
    import psycopg
    from kombu import Connection

    READINESS_CHECKS.inc()
    checks = {}
    try:
        with Connection(state.env.amqp_uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"unavailable: {type(exc).__name__}"
    try:
        with psycopg.connect(state.env.database_url or "", connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["database"] = f"unavailable: {type(exc).__name__}"
    return all(v == "ok" for v in checks.values()), checks


def _register_web_routes(app: Flask) -> None:
    @app.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def api_not_found(rest):
        raise ApiError(404, "Not Found")

    @app.route("/scim", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    @app.route("/scim/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def scim_off(rest: str = ""):  # reached only without SCIM_TOKEN (gateway/scim.py mounts /scim)
        raise ApiError(404, "Not Found")

    @app.get("/")
    @app.get("/<path:path>")
    def web(path: str = ""):
        root = _web_dir()
        if path and _inside(root, path):
            return send_from_directory(root, path)
        # Everything else is the app shell: client-side routes (/booking/…, /admin/…, /help,
        # /privacy) serve the app on reload and the app shows its own "not found" page. A path
        # outside the built app answers exactly like a missing one, so nothing tells whether a
        # file exists elsewhere on the server.
        if not (root / "index.html").is_file():
            raise ApiError(404, "Not Found")
        response = send_from_directory(root, "index.html")
        response.headers["Cache-Control"] = "no-cache"  # a new release is picked up on reload
        return response


def _inside(root: Path, path: str) -> bool:
    """Whether `path` names a regular file inside `root` (after resolving `..` and links)."""
    try:
        target = (root / path).resolve()
    except (OSError, ValueError):
        return False
    return target.is_relative_to(root) and target.is_file()


def route_metrics(method: str, route: str, status: str) -> tuple[Counter, Histogram]:
    """The request counter and latency timer of one route and status."""
    return REQUESTS.labels(method, route, status), LATENCY.labels(method, route)


def _register_metrics(app: Flask) -> None:
    counters: dict[tuple[str, str, str], Counter] = {}  # the labelled children, looked up once each
    timers: dict[tuple[str, str], Histogram] = {}

    @app.after_request
    def _observe(response):
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        status = response.status_code if 100 <= response.status_code <= 599 else 500
        key = (method, rule, str(status))
        counter = counters.get(key)
        if counter is None:
            counter = counters[key] = REQUESTS.labels(*key)
        counter.inc()
        started = request.environ.get("ob.started")  # set by the app's outer layer (_register_edge)
        if started is not None:
            timer = timers.get(key[:2])
            if timer is None:
                timer = timers[key[:2]] = LATENCY.labels(method, rule)
            timer.observe(time.perf_counter() - started)
        if "reference" in g:
            response.headers["X-Reference"] = g.reference
        return response


# Browser security headers. The web app runs under this policy: scripts and styles from
# our origin only (no inline script), WebAssembly for the QR decoder ('wasm-unsafe-eval'), QR
# images drawn as data:/blob: URLs, the camera only for this origin.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "font-src 'self'",
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'none'",
])
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def _register_edge(app: Flask, env: Env) -> None:
    """Every answer's security headers, added where the WSGI answer starts (also to answers
    made outside a view: errors, static files), and its start time for the latency metric. Plain
    strings on the header list: a Flask hook adding them through werkzeug's `Headers` (which
    checks every value) cost ~3 % of a read's CPU (issue 16)."""
    hsts = None if env.local_development else f"max-age={env.hsts_max_age}; includeSubDomains"
    headers = [("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
               ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
               ("Permissions-Policy", PERMISSIONS_POLICY), ("Cross-Origin-Opener-Policy", "same-origin")]
    if hsts:  # SPEC §17: production only (a local http://localhost must keep working)
        headers.append(("Strict-Transport-Security", hsts))
    defaults = [(name.lower(), (name, value)) for name, value in headers]
    inner = app.wsgi_app

    def _edge(environ: dict, start_response):
        environ["ob.started"] = time.perf_counter()
        api = environ.get("PATH_INFO", "").startswith("/api/")

        def start(status: str, response_headers: list, exc_info=None):
            present = {name.lower() for name, _ in response_headers}  # a route's own value is kept
            if api:
                # Answers carry personal data (bookings, passes, users): never stored by a
                # browser or a shared cache. An event stream's `no-cache` is replaced too.
                if "cache-control" in present or "expires" in present:
                    response_headers = [(n, v) for n, v in response_headers
                                        if n.lower() not in ("cache-control", "expires")]
                response_headers.append(("Cache-Control", "no-store"))
            response_headers.extend(header for lower, header in defaults if lower not in present)
            return start_response(status, response_headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = _edge  # type: ignore[method-assign]
