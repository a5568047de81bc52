"""Bookings under /api/bookings (SPEC §4, §9). Rules 1–4 of §4 are checked here, at the edge;
the booking service decides rules 5–11 in one transaction."""
from __future__ import annotations

import re
import uuid
from datetime import date
from typing import overload

from flask import g, jsonify, request

from obcommon.emails import is_valid_email, normalize_email

from .api import endpoint, ob, rpc
from .auth import Caller, current_caller
from .errors import ApiError
from .schemas import Booking, BookingListQuery, BookingRequest, ErrorBody

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@overload
def parse_date(value: str, message: str = ...) -> str: ...
@overload
def parse_date(value: None, message: str = ...) -> None: ...
@overload
def parse_date(value: str | None, message: str = ...) -> str | None: ...
def parse_date(value: str | None, message: str = "Invalid date format") -> str | None:
    """`value` as YYYY-MM-DD (None stays None); 400 "invalid_date_format" otherwise."""
    if value is None:
        return None
    try:
        if _ISO_DATE.match(value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ApiError(400, message, code="invalid_date_format")


def can_manage(caller: Caller, office_id: str) -> bool:
    perms = caller.permissions
    return bool(perms["can_manage_all_bookings"]) or office_id in perms["offices_can_manage"]


def caller_scope(caller: Caller) -> dict:
    """What the booking service needs to know about the caller to authorise a cancellation."""
    return {"email": caller.email, "system_admin": bool(caller.permissions["can_manage_all_bookings"]),
            "offices": list(caller.permissions["offices_can_manage"])}


def booking_payload(caller: Caller, body: BookingRequest) -> dict:
    """SPEC §4 rules 1–4 (the body model checked rule 1): the request the booking service decides."""
    user = normalize_email(body.user)
    if not (is_valid_email(user) and ob().config.email_allowed(user)):  # rule 2
        raise ApiError(400, "Invalid user email address", code="invalid_user_email")
    if user != caller.email and not can_manage(caller, body.office):  # rule 3
        raise ApiError(403, "Forbidden")
    day = parse_date(body.date)  # rule 4
    return {"user": user, "office": body.office, "date": day, "parking": bool(body.parking), "reason": body.reason}


@endpoint("/bookings", "POST", "Book a place (SPEC §4); at a ballot office before the draw, a request (202, SPEC §13)",
          write=True, body=BookingRequest,
          responses={201: Booking, 202: Booking, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody})
def create_booking():
    caller = current_caller()
    payload = booking_payload(caller, g.body)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= 200):
        raise ApiError(400, "Invalid Idempotency-Key header", code="invalid_idempotency_key")
    # Without a client key, the gateway names this request itself: the RPC message carries the
    # name, so a call the broker delivers again after booking committed it (booking killed before
    # its reply) is answered with the first booking, not a false 409 (docs/reliability.md). Under
    # that name booking keeps only a booking made, not a refusal (nothing to repeat).
    request_id = None if key else f"gateway:{uuid.uuid4().hex}"
    with rpc() as services:
        booking = services.booking.create_booking(payload, caller.email, key, request_id)
    ob().availability.forget(booking["office"]["id"], booking["date"])
    return jsonify(booking), 202 if booking["status"] == "requested" else 201


@endpoint("/bookings", "GET", "List bookings (own; admins: of the offices they manage)", query=BookingListQuery,
          responses={200: [Booking], 400: ErrorBody, 403: ErrorBody})
def list_bookings():
    caller = current_caller()
    q: BookingListQuery = g.query
    date_from, date_to = parse_date(q.from_), parse_date(q.to)
    if q.date:
        date_from = date_to = parse_date(q.date)
    system = bool(caller.permissions["can_manage_all_bookings"])
    managed = list(caller.permissions["offices_can_manage"])
    user = normalize_email(q.user) if q.user else None
    scope = None  # None: every office
    if user == caller.email or (user is None and not caller.is_admin):
        user = caller.email  # one's own bookings, in any office
    elif not caller.is_admin:
        raise ApiError(403, "Forbidden")
    elif not system:
        if q.office and q.office not in managed:
            raise ApiError(403, "Forbidden")
        scope = managed  # an Office Admin sees the offices they manage (filtered, not 403)
    with rpc() as services:
        bookings = services.booking.list_bookings(user=user, offices=scope, office=q.office, date_from=date_from,
                                                  date_to=date_to, include_cancelled=q.include_cancelled == "true")
    return jsonify(bookings)


@endpoint("/bookings/<booking_id>", "DELETE", "Cancel a booking", write=True, responses={204: None})
def cancel_booking(booking_id: str):
    caller = current_caller()
    if not re.fullmatch(r"[0-9a-f]{32}", booking_id):
        raise ApiError(404, "Not Found")
    with rpc() as services:
        cancelled = services.booking.cancel_booking(booking_id, caller_scope(caller))
    ob().availability.forget(cancelled["office"], cancelled["date"])
    return "", 204
