"""Regular office days and calendars (SPEC §14): recurring patterns, the range cancel and the
per-user calendar feed. The booking service books each occurrence when its date enters the
window (under every rule of SPEC §4) and renders the feed; this module checks who may ask."""
from __future__ import annotations

import re

from flask import Response, g, jsonify, request

from obcommon.emails import is_valid_email, normalize_email
from services.booking.exceptions import FeedNotFound

from .api import endpoint, ob, rpc
from .auth import current_caller
from .bookings import caller_scope, can_manage, parse_date
from .errors import ApiError
from .schemas import (
    CalendarUrl,
    ErrorBody,
    RangeCancelRequest,
    RangeCancelResponse,
    RecurringPattern,
    RecurringQuery,
    RecurringRequest,
)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


@endpoint("/recurring", "POST", "A pattern of regular office days: own, or admins on behalf (SPEC §14)", write=True,
          body=RecurringRequest, responses={201: RecurringPattern, 400: ErrorBody, 403: ErrorBody})
def create_pattern():
    caller = current_caller()
    body: RecurringRequest = g.body
    user = normalize_email(body.user) if body.user else caller.email
    if not (is_valid_email(user) and ob().config.email_allowed(user)):
        raise ApiError(400, "Invalid user email address", code="invalid_user_email")
    if user != caller.email and not can_manage(caller, body.office):
        raise ApiError(403, "Forbidden")
    fields = {"office": body.office, "weekdays": body.weekdays, "parking": bool(body.parking),
              "until": parse_date(body.until, "Invalid until: a date YYYY-MM-DD, or null") if body.until else None,
              "reason": body.reason}
    with rpc() as services:
        pattern = services.booking.create_pattern(fields, user, caller.email)
    return jsonify(pattern), 201


@endpoint("/recurring", "GET", "Recurring patterns with their last results: own; admins ?user=", query=RecurringQuery,
          responses={200: [RecurringPattern], 403: ErrorBody})
def list_patterns():
    caller = current_caller()
    q: RecurringQuery = g.query
    user = normalize_email(q.user) if q.user else caller.email
    scope = None
    if user != caller.email:
        if not caller.is_admin:
            raise ApiError(403, "Forbidden")
        if not caller.permissions["can_manage_all_bookings"]:
            scope = list(caller.permissions["offices_can_manage"])  # an Office Admin: their offices' patterns
    with rpc() as services:
        return jsonify(services.booking.list_patterns(user=user, offices=scope))


@endpoint("/recurring/<pattern_id>", "DELETE", "Stop a pattern; the bookings it made stay (owner or admins)",
          write=True, responses={204: None, 403: ErrorBody, 404: ErrorBody})
def delete_pattern(pattern_id: str):
    caller = current_caller()
    if not re.fullmatch(r"[0-9a-f]{32}", pattern_id):
        raise ApiError(404, "Not Found")
    with rpc() as services:
        services.booking.delete_pattern(pattern_id, caller_scope(caller))
    return "", 204


@endpoint("/bookings/cancel-range", "POST", "Cancel one's own bookings in a date range (\"I'm on holiday\")",
          write=True, body=RangeCancelRequest, responses={200: RangeCancelResponse, 400: ErrorBody})
def cancel_range():
    caller = current_caller()
    body: RangeCancelRequest = g.body
    first, last = parse_date(body.from_), parse_date(body.to)
    with rpc() as services:
        result = services.booking.cancel_range(caller_scope(caller), first, last, body.office)
    ob().availability.clear_counts()
    return jsonify(result)


@endpoint("/me/calendar", "POST", "A new secret calendar feed URL (any earlier one stops working)", write=True,
          responses={201: CalendarUrl})
def create_feed():
    caller = current_caller()
    with rpc() as services:
        token = services.booking.create_feed(caller.email)
    base = (ob().config.web_url or request.url_root).rstrip("/")
    return jsonify({"url": f"{base}/api/calendar/{token}.ics"}), 201


@endpoint("/me/calendar", "DELETE", "Revoke the calendar feed URL", write=True, responses={204: None})
def revoke_feed():
    caller = current_caller()
    with rpc() as services:
        services.booking.revoke_feed(caller.email)
    return "", 204


@endpoint("/calendar/<feed>", "GET", "A user's calendar feed (RFC 5545) at <token>.ics; the secret URL is the"
          " credential", auth=False,
          responses={200: {"description": "an iCalendar file",
                           "content": {"text/calendar": {"schema": {"type": "string"}}}}, 404: ErrorBody})
def calendar_feed(feed: str):
    token = feed.removesuffix(".ics")
    if not _TOKEN.fullmatch(token):
        raise ApiError(404, "Not Found")
    with rpc() as services:
        try:
            text = services.booking.feed(token)
        except FeedNotFound:
            raise ApiError(404, "Not Found") from None
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="office-booker.ics"'
    return response
