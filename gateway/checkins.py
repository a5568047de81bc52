"""Check-in and release of no-shows (SPEC §11) at the edge: door codes and the kiosk, door
check-ins, "I'm not coming" (signed in, or through the signed link of the confirmation mail).

Door codes are signed here with a key derived from SECRET_KEY (`door-codes`), as passes are: a
code names its office and the office's date, and carries its issue time (itsdangerous'
timestamp), so it is valid for DOOR_CODE_SECONDS and never for another office or another day.
The booking service finds the caller's booking and records the check-in (exactly once).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import g, jsonify, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field

from obcommon.links import RELEASE_LINK_PURPOSE, booking_of_release_token
from services.booking import rules as booking_rules
from services.booking.exceptions import BookingNotFound
from services.booking.schemas import Booking

from .api import endpoint, ob, rpc
from .auth import current_caller
from .bookings import caller_scope, can_manage
from .errors import ApiError
from .schemas import ErrorBody

DOOR_CODE_SECONDS = 90  # SPEC §11
_DOOR_SALT = "office-booker/door-code"
INVALID_DOOR_CODE = "Invalid or expired door code"
_BOOKING_ID = re.compile(r"[0-9a-f]{32}")


class DoorCode(BaseModel):
    code: str = Field(description="what the kiosk's QR code carries inside `url`")
    url: str = Field(description="the web app's /checkin?code=… page: the QR code holds this")
    expires_at: str = Field(description="ISO 8601 UTC; the kiosk fetches a new code before then")


class CheckinRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(max_length=2000)


class CheckinResponse(BaseModel):
    booking: Booking
    first_check_in: bool = Field(description="this request recorded the check-in (a repeat: false, same time)")


class ReleaseLinkRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    token: str = Field(max_length=2000)


class ReleaseLinkQuery(BaseModel):
    token: str | None = Field(None, max_length=2000)


def _door_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(ob().env.derive_key("door-codes"), salt=_DOOR_SALT)


def door_code(office: dict, now: datetime) -> str:
    today = booking_rules.office_today(now, office["timezone"])
    return _door_signer().dumps({"o": office["id"], "d": today.isoformat()})


def office_of_door_code(code: str, now: datetime) -> str | None:
    """The office a genuine, unexpired code of the office's today names; None otherwise."""
    try:
        data = _door_signer().loads(code, max_age=DOOR_CODE_SECONDS)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("o"), str):
        return None
    office = ob().availability.office(data["o"])
    if office is None or data.get("d") != booking_rules.office_today(now, office["timezone"]).isoformat():
        return None  # another day's code (issued just before the office's midnight)
    return office["id"]


def _web_url() -> str:
    return (ob().config.web_url or request.url_root).rstrip("/")


@endpoint("/offices/<office_id>/door-code", "GET", "The office's current door code for the kiosk's QR code"
          " (admins of that office; valid 90 s)", responses={200: DoorCode, 403: ErrorBody, 404: ErrorBody})
def get_door_code(office_id: str):
    caller = current_caller()
    if not can_manage(caller, office_id):
        raise ApiError(403, "Forbidden")
    office = ob().availability.office(office_id)
    if office is None:
        raise ApiError(404, "Not Found")
    now = datetime.now(UTC)
    code = door_code(office, now)
    expires = (now + timedelta(seconds=DOOR_CODE_SECONDS)).replace(microsecond=0)
    return jsonify({"code": code, "url": f"{_web_url()}/checkin?code={code}",
                    "expires_at": expires.isoformat().replace("+00:00", "Z")})


@endpoint("/checkins", "POST", "Check in at the door with the kiosk's door code (the caller's booking today"
          " at that office)", write=True, body=CheckinRequest,
          responses={200: CheckinResponse, 400: ErrorBody, 404: ErrorBody})
def check_in():
    caller = current_caller()
    body: CheckinRequest = g.body
    office_id = office_of_door_code(body.code.strip(), datetime.now(UTC))
    if office_id is None:
        raise ApiError(400, INVALID_DOOR_CODE, code="invalid_door_code")
    with rpc() as services:
        result = services.booking.check_in(caller.email, office_id, caller.email)
    return jsonify({"booking": result["booking"], "first_check_in": bool(result["first_check_in"])})


@endpoint("/bookings/<booking_id>/release", "POST", "I'm not coming: release a booking on its day (owner until"
          " the check-in deadline, admins of the office all day)", write=True,
          responses={200: Booking, 403: ErrorBody, 404: ErrorBody})
def release_booking(booking_id: str):
    caller = current_caller()
    if not _BOOKING_ID.fullmatch(booking_id):
        raise ApiError(404, "Not Found")
    with rpc() as services:
        booking = services.booking.release_booking(booking_id, caller_scope(caller))
    ob().availability.forget(booking["office"]["id"], booking["date"])
    return jsonify(booking)


# ------------------------------------------------------------------ the mail's release link (no sign-in)


def _linked_booking_id(token: str | None) -> str:
    booking_id = booking_of_release_token(ob().env.derive_key(RELEASE_LINK_PURPOSE), (token or "").strip())
    if booking_id is None or not _BOOKING_ID.fullmatch(booking_id):
        raise ApiError(400, "Invalid release link", code="invalid_release_link")
    return booking_id


@endpoint("/release-links", "GET", "The booking a release link names (no sign-in: the token is the"
          " credential; nothing changes)", auth=False, query=ReleaseLinkQuery,
          responses={200: Booking, 400: ErrorBody, 404: ErrorBody})
def get_release_link():
    booking_id = _linked_booking_id(g.query.token)
    with rpc() as services:
        try:
            booking = services.booking.get_booking(booking_id)
        except BookingNotFound:
            raise ApiError(404, "Not Found") from None
    return jsonify(booking)


@endpoint("/release-links", "POST", "Release the booking a release link names, as its holder would (no"
          " sign-in; the page asks to confirm first)", auth=False, write=True, body=ReleaseLinkRequest,
          responses={200: Booking, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def use_release_link():
    booking_id = _linked_booking_id(g.body.token)
    with rpc() as services:
        try:
            owner = services.booking.get_booking(booking_id)["user"]
        except BookingNotFound:
            raise ApiError(404, "Not Found") from None
        booking = services.booking.release_booking(booking_id, {"email": owner, "system_admin": False,
                                                                "offices": []})
    ob().availability.forget(booking["office"]["id"], booking["date"])
    return jsonify(booking)
