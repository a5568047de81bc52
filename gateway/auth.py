"""Authentication and authorisation at the edge: bearer token or session cookie + CSRF."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import current_app, g, request

from .errors import ApiError

SESSION_COOKIE = "ob_session"
CSRF_COOKIE = "ob_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Caller:
    session_id: str
    email: str
    user: dict
    via_cookie: bool

    @property
    def permissions(self) -> dict:
        return self.user["permissions"]

    @property
    def is_admin(self) -> bool:
        return bool(self.permissions["can_view_admin"])


def session_id_for(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """Bound to the session: stateless to check on any replica, useless for another session."""
    key = current_app.extensions["ob"].csrf_key
    return hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()


def _token_from_request() -> tuple[str | None, bool]:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie or None), True


def optional_caller() -> Caller | None:
    """The signed-in caller, or None when there is none. Checks CSRF on cookie writes."""
    if "caller" in g:
        return g.caller
    token, via_cookie = _token_from_request()
    caller = None
    if token and len(token) <= 200:
        sid = session_id_for(token)
        info = current_app.extensions["ob"].sessions.get(sid)
        if info is not None:
            caller = Caller(session_id=sid, email=info["email"], user=info["user"], via_cookie=via_cookie)
    if caller is None:
        return None
    if via_cookie and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token(caller.session_id)):
            raise ApiError(403, "Missing or invalid CSRF token", code="csrf_token_invalid")
    g.caller = caller
    return caller


def current_caller() -> Caller:
    """The signed-in caller (401 if there is none). Checks CSRF on cookie writes."""
    caller = optional_caller()
    if caller is None:
        raise ApiError(401, "Unauthorized")
    return caller


def require_writable() -> None:
    """SPEC §8: in read-only mode every authenticated write answers 503 (after the 401 check)."""
    if current_app.extensions["ob"].config.read_only:
        raise ApiError(503, "Service currently in read-only mode", code="read_only")
