"""The waitlist of full days (SPEC §12): `POST/GET /api/waitlist`, `DELETE /api/waitlist/{id}`.
Rules 1–4 are checked here as for a booking (`bookings.booking_payload`); the booking service
decides the rest under the office-day lock its booking decisions take, and promotes the queue
whenever a place frees."""
from __future__ import annotations

import re

from flask import g, jsonify

from .api import endpoint, rpc
from .auth import current_caller
from .bookings import booking_payload, caller_scope, parse_date
from .errors import ApiError
from .schemas import ErrorBody, WaitlistEntry, WaitlistQuery, WaitlistRequest


@endpoint("/waitlist", "POST", "Queue for a full (or closed) day: own, or admins on behalf (SPEC §12)", write=True,
          body=WaitlistRequest, responses={201: WaitlistEntry, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody})
def join_waitlist():
    caller = current_caller()
    payload = booking_payload(caller, g.body)
    with rpc() as services:
        entry = services.booking.join_waitlist(payload, caller.email)
    return jsonify(entry), 201


@endpoint("/waitlist", "GET", "Waitlist entries with their position: own; admins with ?office=&date=, every"
          " user's in the offices they manage", query=WaitlistQuery,
          responses={200: [WaitlistEntry], 400: ErrorBody, 403: ErrorBody})
def list_waitlist():
    caller = current_caller()
    q: WaitlistQuery = g.query
    day = parse_date(q.date)
    perms = caller.permissions
    if (q.office or day) and caller.is_admin:
        if q.office and not (perms["can_manage_all_bookings"] or q.office in perms["offices_can_manage"]):
            raise ApiError(403, "Forbidden")
        scope = None if perms["can_manage_all_bookings"] else list(perms["offices_can_manage"])
        with rpc() as services:
            return jsonify(services.booking.list_waitlist(offices=scope, office=q.office, date=day))
    with rpc() as services:
        return jsonify(services.booking.list_waitlist(user=caller.email, office=q.office, date=day))


@endpoint("/waitlist/<entry_id>", "DELETE", "Leave the waitlist (owner or admins of the office)", write=True,
          responses={204: None, 403: ErrorBody, 404: ErrorBody})
def leave_waitlist(entry_id: str):
    caller = current_caller()
    if not re.fullmatch(r"[0-9a-f]{32}", entry_id):
        raise ApiError(404, "Not Found")
    with rpc() as services:
        services.booking.leave_waitlist(entry_id, caller_scope(caller))
    return "", 204



