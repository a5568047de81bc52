"""Erasing a user (SPEC §4): the stable, non-reversible pseudonym that replaces their email.

Identity computes it when a System Admin erases a user and sends it in the `user_erased` event;
audit computes it again to recognise the erased email in events that arrive after the erasure
(see services/audit). Both derive the key from SECRET_KEY for the same purpose, so they agree, and
without that key the pseudonym cannot be linked back to an address (not even by trying a list of
likely addresses).
"""
from __future__ import annotations

import hashlib
import hmac

from .emails import normalize_email

KEY_PURPOSE = "erasure-pseudonyms"
PREFIX = "erased-"


def pseudonym(key: bytes, email: str) -> str:
    """`erased-` + 24 hex digits of HMAC-SHA256(key, normalised email)."""
    digest = hmac.new(key, normalize_email(email).encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:24]
