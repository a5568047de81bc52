"""Flask app factory (`create_app`) and the gateway's operational routes."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from flask import Flask, g, jsonify, request, send_from_directory
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from werkzeug.middleware.proxy_fix import ProxyFix

from obcommon.config import AppConfig, Env, load_config
from obcommon.tracing import instrument_flask

from .errors import ApiError, register_error_handlers
from .rpc import RpcPool
from .live import EventHub
from .readmodel import Availability
from .sessions import EventListener, SessionCache

log = logging.getLogger("gateway")
WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

REQUESTS = Counter("ob_http_requests_total", "HTTP requests", ["method", "route", "status"])
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
    listener: Optional[EventListener]
    csrf_key: bytes


def _web_dir() -> Path:
    dist = WEB_ROOT / "dist"
    return dist if (dist / "index.html").exists() else WEB_ROOT


def create_app(config: Optional[AppConfig] = None, env: Optional[Env] = None, listen: bool = True) -> Flask:
    config = config or load_config()
    env = env or Env.from_environ()
    app = Flask(__name__, static_folder=None)
    instrument_flask(app)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = False
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies)

    pool = RpcPool(env.amqp_uri)

    def fetch_session(session_id: str):
        with pool.client() as services:
            return services.identity.get_session(session_id)

    sessions = SessionCache(fetch_session)

    def load_offices() -> list[dict]:
        with pool.client() as services:
            return services.offices.list_offices(include_retired=True)

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

        listener = EventListener(
            env.amqp_uri,
            {
                ("identity", "session_revoked"): lambda e: sessions.evict_session(e["session_id"]),
                ("identity", "user_changed"): lambda e: sessions.evict_email(e["email"]),
                # System Admins' `role.offices` lists every office: cached users are refreshed.
                ("offices", "office_created"): lambda e: (availability.on_office_event(e), sessions.clear()),
                ("offices", "office_updated"): lambda e: (availability.on_office_event(e), sessions.clear()),
                ("booking", "booking_created"): lambda e: (availability.on_booking_event(e), hub.on_booking_event(e)),
                ("booking", "booking_cancelled"): lambda e: (availability.on_booking_event(e), hub.on_booking_event(e)),
                # an erased user's bookings went (issue 4): one availability per office-day that changed
                ("booking", "user_bookings_erased"): lambda e: [
                    (availability.on_booking_event(one), hub.on_booking_event(one)) for one in each_availability(e)],
            },
            on_connected,
        )
        listener.start()
    app.extensions["ob"] = Gateway(config, env, pool, sessions, availability, hub, listener, env.derive_key("csrf"))

    from . import bookings, live, passes  # noqa: F401 - register their routes on the blueprint
    from . import users, admin  # noqa: F401 - users, offices admin, stats, audit, self-test (issue 4)
    from .api import api

    app.register_blueprint(api)
    register_error_handlers(app)
    _register_ops_routes(app)
    _register_web_routes(app)
    _register_metrics(app)
    return app


def each_availability(event: dict) -> list[dict]:
    """An event carrying a list of `availability` (booking.user_bookings_erased) as one event per
    office-day, each with its own id, as booking_created / booking_cancelled carry them."""
    return [{**event, "event_id": f"{event.get('event_id')}:{a.get('office')}:{a.get('date')}", "availability": a}
            for a in event.get("availability") or [] if isinstance(a, dict)]


def _register_ops_routes(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        import psycopg
        from kombu import Connection

        checks = {}
        state = app.extensions["ob"]
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
        ok = all(v == "ok" for v in checks.values())
        return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), (200 if ok else 503)

    @app.get("/metrics")
    def metrics():
        return generate_latest(), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _register_web_routes(app: Flask) -> None:
    @app.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def api_not_found(rest):
        raise ApiError(404, "Not Found")

    @app.get("/")
    @app.get("/<path:path>")
    def web(path: str = ""):
        root = _web_dir()
        if path and (root / path).is_file():
            return send_from_directory(root, path)
        # Client-side routes (/booking/…, /admin/…, /help, /privacy) serve the app on reload.
        return send_from_directory(root, "index.html")


def _register_metrics(app: Flask) -> None:
    @app.before_request
    def _start():
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response):
        rule = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, rule, str(response.status_code)).inc()
        if "started" in g:
            LATENCY.labels(request.method, rule).observe(time.perf_counter() - g.started)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if "reference" in g:
            response.headers["X-Reference"] = g.reference
        return response
