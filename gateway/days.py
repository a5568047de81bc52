"""Day overrides and closures (SPEC §15): `PUT/DELETE /api/offices/{id}/days/{date}`, admins of
that office. The booking service decides and stores the override under the office-day lock its
booking decisions take; this module checks who may ask and what was sent."""
from __future__ import annotations

from flask import g, jsonify

from services.booking.schemas import Day, DayUpdate

from .api import endpoint, ob, rpc
from .auth import current_caller
from .bookings import can_manage, parse_date
from .errors import ApiError
from .readmodel import effective_day
from .schemas import ErrorBody


def _office_for(office_id: str) -> dict:
    """The office, for an admin of it: 403 for anyone else (before saying whether it exists, as
    for bookings), 404 for an unknown office asked by a System Admin."""
    caller = current_caller()
    if not can_manage(caller, office_id):
        raise ApiError(403, "Forbidden")
    office = ob().availability.office(office_id)
    if office is None:
        raise ApiError(404, "Not Found")
    return office


def _day(value: str) -> str:
    day = parse_date(value, "Invalid date format: the day must be YYYY-MM-DD")
    assert day is not None  # a path segment is never absent
    return day


@endpoint("/offices/<office_id>/days/<day>", "PUT", "Override one day of an office: quota, parking quota, closed,"
          " note; closing with cancel_existing cancels that day's bookings (admins of that office)",
          write=True, body=DayUpdate, field_errors=True,
          responses={200: Day, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def set_day(office_id: str, day: str):
    caller = current_caller()
    _office_for(office_id)
    day = _day(day)
    fields = {k: getattr(g.body, k) for k in g.body.model_fields_set}
    with rpc() as services:
        result = services.booking.set_day(office_id, day, fields, caller.email)
    ob().availability.forget(office_id, day)  # read-your-writes on this replica
    return jsonify(result)


@endpoint("/offices/<office_id>/days/<day>", "DELETE", "Remove one day's override: the office's own capacity"
          " again (admins of that office)", write=True,
          responses={200: Day, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def clear_day(office_id: str, day: str):
    caller = current_caller()
    _office_for(office_id)
    day = _day(day)
    with rpc() as services:
        result = services.booking.clear_day(office_id, day, caller.email)
    ob().availability.forget(office_id, day)
    return jsonify(result)


@endpoint("/offices/<office_id>/days/<day>", "GET", "One day of an office: its effective capacity, whether it"
          " is overridden, what is booked (admins of that office; any day up to a year ahead)",
          responses={200: Day, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def get_day(office_id: str, day: str):
    office = _office_for(office_id)
    day = _day(day)
    with rpc() as services:
        slot = services.booking.get_slots(office_id, [day])[0]
    override = slot.get("override")
    return jsonify({"office": office_id, "date": day, **effective_day(office, override or {}),
                    "booked": slot["booked"], "booked_parking": slot["booked_parking"],
                    "overridden": override is not None, "cancelled": 0})
