"""Signed links that need no sign-in (SPEC §11): the "I'm not coming" release link of one booking.

The gateway checks them and notify writes them into the confirmation mail, so both derive the same
key from SECRET_KEY (`Env.derive_key("release-links")`). A token names exactly one booking; it is
not a credential for anything else, and opening the link never releases anything by itself: the
page asks to confirm (mail scanners open links).
"""
from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

RELEASE_LINK_PURPOSE = "release-links"
_SALT = "office-booker/release-link"
RELEASE_PATH = "/release"


def _signer(key: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt=_SALT)


def release_token(key: bytes, booking_id: str) -> str:
    return _signer(key).dumps({"r": booking_id})


def booking_of_release_token(key: bytes, token: str) -> str | None:
    """The booking id a genuine token names; None for a forged, damaged or foreign one."""
    try:
        data = _signer(key).loads(str(token))
    except BadSignature:
        return None
    booking_id = data.get("r") if isinstance(data, dict) else None
    return booking_id if isinstance(booking_id, str) else None


def release_url(key: bytes, booking_id: str, web_url: str | None) -> str:
    """The link of the confirmation mail: `<web_url>/release?token=…` (the path alone when the
    deployment did not configure `web_url`)."""
    path = f"{RELEASE_PATH}?token={release_token(key, booking_id)}"
    return f"{web_url.rstrip('/')}{path}" if web_url else path
