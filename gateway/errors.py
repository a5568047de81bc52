"""Every error the API answers, in one place: JSON `{message, reference}` (SPEC §10).

Remote (service) errors map to HTTP statuses here and nowhere else. 4xx are logged at INFO (it
worked, the user was told no), 5xx at ERROR with the stack trace; both carry the reference that
the client sees, so support can find the log line.
"""
from __future__ import annotations

import logging
import uuid

import amqp.exceptions
import kombu.exceptions
from flask import Flask, g, jsonify
from nameko.exceptions import RemoteError, RpcTimeout
from werkzeug.exceptions import HTTPException

from services.audit.exceptions import InvalidCursor, InvalidFilter
from services.booking import exceptions as booking
from services.identity.exceptions import (DependencyUnavailable, InvalidCode, InvalidUserQuery, InvalidUserUpdate,
                                         RateLimited, UserNotFound)
from obcommon.messaging import DependencyUnavailable as ServiceDependencyUnavailable
from services.offices.exceptions import InvalidOffice, OfficeExists, OfficeNotFound

log = logging.getLogger("gateway.errors")

# Remote error type -> HTTP status. The error's own message is shown to the user.
REMOTE_ERRORS: dict[type, int] = {
    InvalidCode: 401,
    RateLimited: 429,
    UserNotFound: 404,
    InvalidUserUpdate: 400,
    OfficeNotFound: 404,
    booking.InvalidRange: 400,
    booking.OfficeNotFound: 400,  # SPEC §4 rule 5: "Office not found" is a 400 for bookings
    booking.DateOutOfRange: 400,
    booking.ReasonRequired: 400,
    booking.DuplicateBooking: 409,
    booking.OfficeFull: 409,
    booking.ParkingFull: 409,
    booking.UserQuotaExceeded: 409,
    booking.IdempotencyKeyReused: 409,
    booking.BookingNotFound: 404,
    booking.BookingForbidden: 403,
    booking.TooLateToCancel: 403,
    InvalidCursor: 400,
    InvalidFilter: 400,
    InvalidUserQuery: 400,
    DependencyUnavailable: 503,
    ServiceDependencyUnavailable: 503,  # a service's database (or a service it needs) is unreachable
    InvalidOffice: 400,
    OfficeExists: 409,
}

STANDARD_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Expected a JSON body",
    429: "Too many requests",
    503: "Service unavailable",
}


# The broker, a service or a database is away: 503 (SPEC §10), never 500. Locally: the RPC timed
# out, or the broker connection failed (sockets, py-amqp, kombu after its retries).
DEPENDENCY_DOWN = (RpcTimeout, ConnectionError, OSError, TimeoutError, amqp.exceptions.AMQPError,
                   kombu.exceptions.OperationalError)
# Remotely (a service raised it and nameko sent its type name): database or broker errors.
REMOTE_DEPENDENCY_DOWN = {"OperationalError", "InterfaceError", "TimeoutError", "ConnectionError",
                          "ConnectionResetError", "ConnectionRefusedError", "RecoverableConnectionError",
                          "RpcTimeout"}


class ApiError(Exception):
    def __init__(self, status: int, message: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message or STANDARD_MESSAGES.get(status, "Error")
        self.headers = headers or {}


def reference() -> str:
    if "reference" not in g:
        g.reference = uuid.uuid4().hex[:16]
    return g.reference


def error_response(status: int, message: str, headers: dict | None = None):
    response = jsonify({"message": message, "reference": reference()})
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        log.info("%s %s", exc.status, exc.message, extra={"reference": reference(), "status": exc.status})
        return error_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        message = STANDARD_MESSAGES.get(status, exc.name)
        log.info("%s %s", status, message, extra={"reference": reference(), "status": status})
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        return error_response(status, message, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        for error_type, status in REMOTE_ERRORS.items():
            if isinstance(exc, error_type):
                headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
                message = exc.message or STANDARD_MESSAGES.get(status, "Error")
                # a dependency down (503) broke something that should have worked: ERROR
                log.log(logging.ERROR if status >= 500 else logging.INFO, "%s %s", status, message,
                        extra={"reference": reference(), "status": status})
                return error_response(status, message, headers)
        if isinstance(exc, DEPENDENCY_DOWN) or (isinstance(exc, RemoteError) and exc.exc_type in REMOTE_DEPENDENCY_DOWN):
            log.error("dependency unavailable: %r", exc, extra={"reference": reference(), "status": 503})
            return error_response(503, "Service unavailable")
        if isinstance(exc, RemoteError):
            log.error("remote error: %s", exc, extra={"reference": reference(), "status": 500})
            return error_response(500, "Internal error")
        log.exception("unhandled error", extra={"reference": reference(), "status": 500})
        return error_response(500, "Internal error")
