"""Virtual passes (SPEC §5): a signed, tamper-evident code per booking, and the door check."""
from __future__ import annotations

from flask import g, jsonify
from itsdangerous import BadSignature, URLSafeSerializer

from services.booking.exceptions import BookingNotFound

from .api import endpoint, ob, rpc
from .auth import current_caller
from .bookings import can_manage
from .errors import ApiError
from .schemas import ErrorBody, PassResponse, VerifyPassRequest, VerifyPassResponse

_SALT = "office-booker/pass"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(ob().env.derive_key("passes"), salt=_SALT)


def pass_code(booking_id: str) -> str:
    """What the QR code holds: the booking id, signed with a key only the servers know."""
    return _signer().dumps({"b": booking_id})


def booking_id_from(code: str) -> str | None:
    """The booking id of a genuine code; None for a forged, damaged or foreign one."""
    try:
        data = _signer().loads(code)
    except BadSignature:
        return None
    booking_id = data.get("b") if isinstance(data, dict) else None
    return booking_id if isinstance(booking_id, str) else None


@endpoint("/bookings/<booking_id>/pass", "GET", "The pass of a booking (owner or admins of its office)",
          responses={200: PassResponse, 403: ErrorBody, 404: ErrorBody})
def get_pass(booking_id: str):
    caller = current_caller()
    with rpc() as services:
        try:
            booking = services.booking.get_booking(booking_id)
        except BookingNotFound:
            raise ApiError(404, "Not Found") from None
    if booking["user"] != caller.email and not can_manage(caller, booking["office"]["id"]):
        raise ApiError(403, "Forbidden")
    return jsonify({"booking": booking, "code": pass_code(booking["id"])})


@endpoint("/passes/verify", "POST", "Check a pass at the door of an office (admins of that office)",
          write=True, body=VerifyPassRequest, responses={200: VerifyPassResponse})
def verify_pass():
    caller = current_caller()
    body: VerifyPassRequest = g.body
    if not can_manage(caller, body.office):
        raise ApiError(403, "Forbidden")
    booking_id = booking_id_from(body.code.strip())
    if booking_id is None:
        return jsonify({"valid": False, "status": "invalid", "checked_in_at": None, "first_check_in": False})
    with rpc() as services:
        try:
            result = services.booking.verify_pass(booking_id, body.office, caller.email)
        except BookingNotFound:  # genuine once, but gone (erased or past retention)
            return jsonify({"valid": False, "status": "invalid", "checked_in_at": None, "first_check_in": False})
    if result["status"] == "wrong_office":
        # The scanner does not manage that office: who booked it, when and with what is not theirs
        # to see. Only which office the pass is for.
        return jsonify({"valid": False, "status": "wrong_office", "office": result["booking"]["office"],
                        "checked_in_at": None, "first_check_in": False})
    # `first_check_in`: this scan recorded the check-in; a repeat scan answers the first time.
    return jsonify({"valid": result["status"] == "ok", "status": result["status"], "booking": result["booking"],
                    "checked_in_at": result["checked_in_at"], "first_check_in": bool(result.get("first_check_in"))})
