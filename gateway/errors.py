"""Every error the API answers, in one place: JSON `{message, reference, code}` (SPEC §10, §18).

`code` is a stable snake_case kind (ERROR_CODES, also the enum of the OpenAPI document's
ErrorBody): clients branch on it, never on `message`, which stays exactly as SPEC words it.
Remote (service) errors map to HTTP statuses here and nowhere else; their code is the error
type's own (`code` on each error class a service contract lists). 4xx are logged at INFO (it
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

from obcommon.messaging import DependencyUnavailable as ServiceDependencyUnavailable
from obcommon.messaging import ServiceError
from services.audit.exceptions import InvalidCursor, InvalidFilter
from services.booking import exceptions as booking
from services.identity.exceptions import (
    AccountDisabled,
    DependencyUnavailable,
    InvalidCode,
    InvalidUserQuery,
    InvalidUserUpdate,
    RateLimited,
    UserExists,
    UserNotFound,
)
from services.offices.exceptions import InvalidOffice, OfficeExists, OfficeNotFound

log = logging.getLogger("gateway.errors")

# Remote error type -> HTTP status. The error's own message is shown to the user.
REMOTE_ERRORS: dict[type[ServiceError], int] = {
    InvalidCode: 401,
    AccountDisabled: 403,  # SPEC §16
    UserExists: 409,
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
    booking.OfficeClosed: 409,  # SPEC §15
    booking.DayChangeInvalid: 400,
    booking.UserQuotaExceeded: 409,
    booking.IdempotencyKeyReused: 409,
    booking.BookingNotFound: 404,
    booking.BookingForbidden: 403,
    booking.TooLateToCancel: 403,
    booking.TooLateToRelease: 403,
    booking.ReleaseBeforeDay: 403,
    booking.NoBookingToday: 404,
    booking.PlacesAvailable: 409,  # SPEC §12
    booking.AlreadyWaitlisted: 409,
    booking.WaitlistClosed: 409,
    booking.WaitlistEntryNotFound: 404,
    booking.RecurringInvalid: 400,  # SPEC §14
    booking.PatternNotFound: 404,
    booking.FeedNotFound: 404,
    InvalidCursor: 400,
    InvalidFilter: 400,
    InvalidUserQuery: 400,
    DependencyUnavailable: 503,
    ServiceDependencyUnavailable: 503,  # a service's database (or a service it needs) is unreachable
    InvalidOffice: 400,
    OfficeExists: 409,
}

# Every code an error body can carry, with what it means (SPEC §18). Rows of SPEC §4's table:
# bad_request_body (1), invalid_user_email (2), forbidden (3), invalid_date_format (4),
# office_not_found (5), date_out_of_range (6), reason_required (7), duplicate_booking (8),
# office_full (9), parking_full (10), user_quota_exceeded (11).
ERROR_CODES: dict[str, str] = {
    "bad_request": "the request cannot be used (e.g. a NUL character in the path or query)",
    "bad_request_body": "the body is not a JSON object of the right field types",
    "invalid_field": "a field of the body breaks a rule; the message names it",
    "bad_query": "bad query parameters",
    "invalid_cursor": "a `cursor` the server did not hand out",
    "invalid_email": "not a valid email address",
    "invalid_user_email": "`user` is not a valid email address or not allowed",
    "invalid_date_format": "a date that is not a real YYYY-MM-DD date",
    "invalid_range": "a date range that cannot be used",
    "invalid_idempotency_key": "an Idempotency-Key header that is empty or too long",
    "invalid_user_update": "a user change that breaks a rule (e.g. granting System Admin, unknown offices)",
    "office_not_found": "the office is unknown or retired (booking)",
    "date_out_of_range": "the date is outside the bookable window",
    "reason_required": "a reason to book is required",
    "duplicate_booking": "the user already has a booking at that office that day",
    "office_full": "the office is full that day",
    "parking_full": "the car park is full that day, or has no spaces",
    "office_closed": "the office is closed that day (SPEC §15)",
    "user_quota_exceeded": "the user's weekly quota is reached",
    "idempotency_key_reused": "the Idempotency-Key was used with another body",
    "office_exists": "an office with that id already exists",
    "unauthorized": "not signed in, or the session ended",
    "invalid_code": "a wrong, used or expired sign-in code",
    "account_disabled": "the company's identity provider disabled the account (SPEC §16)",
    "user_exists": "a user with that address already exists",
    "forbidden": "the caller may not do this",
    "csrf_token_invalid": "a cookie-authenticated write without the matching X-CSRF-Token header",
    "too_late_to_cancel": "the booking can no longer be cancelled",
    "too_late_to_release": "the booking can no longer be released (after its day; the owner: past the check-in deadline)",
    "release_before_day": "a booking can be released on its day only: before it, cancel it",
    "no_booking_today": "a door check-in by someone with no active booking today at that office",
    "places_available": "joining the waitlist of a day that has a place: book instead (SPEC §12)",
    "already_waitlisted": "the user is already on that day's waitlist",
    "waitlist_closed": "the day's waitlist has closed (its check-in deadline, or its start, has come)",
    "invalid_door_code": "a door code that is forged, expired (90 s) or for another day",
    "invalid_release_link": "a release link that is forged or damaged",
    "not_found": "no such resource",
    "method_not_allowed": "the path does not take this method",
    "conflict": "a conflict with the current state",
    "too_large": "the request is too large",
    "unsupported_media_type": "the body is not JSON",
    "too_many_requests": "rate-limited: try again after Retry-After seconds",
    "read_only": "the service is in read-only mode",
    "selftest_failed": "the self-test could not book and cancel a place",
    "service_unavailable": "a dependency (broker, service, database) is unavailable: try again",
    "internal_error": "a bug: report the reference",
}

# The code of a status when nothing more precise is known.
STANDARD_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "service_unavailable",
}


def standard_code(status: int) -> str:
    return STANDARD_CODES.get(status) or ("bad_request" if status < 500 else "internal_error")


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
    """An error answer: `code` defaults to the status's standard one (STANDARD_CODES)."""

    def __init__(self, status: int, message: str | None = None, headers: dict | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message or STANDARD_MESSAGES.get(status, "Error")
        self.headers = headers or {}
        self.code = code or standard_code(status)
        assert self.code in ERROR_CODES, self.code


def reference() -> str:
    if "reference" not in g:
        g.reference = uuid.uuid4().hex[:16]
    return g.reference


def error_response(status: int, message: str, code: str, headers: dict | None = None):
    response = jsonify({"message": message, "reference": reference(), "code": code})
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        log.info("%s %s", exc.status, exc.message, extra={"reference": reference(), "status": exc.status})
        return error_response(exc.status, exc.message, exc.code, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        message = STANDARD_MESSAGES.get(status, exc.name)
        log.info("%s %s", status, message, extra={"reference": reference(), "status": status})
        valid_methods = getattr(exc, "valid_methods", None)  # MethodNotAllowed
        headers = {"Allow": ", ".join(valid_methods)} if valid_methods else None
        return error_response(status, message, standard_code(status), headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        for error_type, status in REMOTE_ERRORS.items():
            if isinstance(exc, error_type):
                headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
                message = exc.message or STANDARD_MESSAGES.get(status, "Error")
                # a dependency down (503) broke something that should have worked: ERROR
                log.log(logging.ERROR if status >= 500 else logging.INFO, "%s %s", status, message,
                        extra={"reference": reference(), "status": status})
                code = exc.code if exc.code in ERROR_CODES else standard_code(status)
                return error_response(status, message, code, headers)
        if isinstance(exc, DEPENDENCY_DOWN) or (isinstance(exc, RemoteError) and exc.exc_type in REMOTE_DEPENDENCY_DOWN):
            log.error("dependency unavailable: %r", exc, extra={"reference": reference(), "status": 503})
            return error_response(503, "Service unavailable", "service_unavailable")
        if isinstance(exc, RemoteError):
            log.error("remote error: %s", exc, extra={"reference": reference(), "status": 500})
            return error_response(500, "Internal error", "internal_error")
        log.exception("unhandled error", extra={"reference": reference(), "status": 500})
        return error_response(500, "Internal error", "internal_error")
