"""Pure identity rules: codes, tokens, roles and permissions (unit-tested without I/O)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from obcommon.config import AppConfig

DEFAULT, OFFICE_ADMIN, SYSTEM_ADMIN = "Default", "Office Admin", "System Admin"
MAX_WRONG_ATTEMPTS = 5


def new_code() -> str:
    """A 6-digit code from the OS CSPRNG."""
    return f"{secrets.randbelow(10**6):06d}"


def hash_code(key: bytes, email: str, code: str) -> str:
    """Keyed hash: a leaked table cannot be brute-forced over the 10^6 codes without the key."""
    return hmac.new(key, f"{email}\n{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(key: bytes, email: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_code(key, email, code), stored_hash)


CODE_SPACE = 10**6


def retry_after(count: int, oldest: datetime | None, limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until a key may try again, or None while it is under its limit.

    `count` events of the key (code requests, failed verifies) happened in the sliding `window`
    before `now`, the oldest at `oldest`; at `limit` the key is locked until that one leaves the
    window."""
    if count < limit:
        return None
    return max(1, math.ceil(((oldest or now) + window - now).total_seconds()))


def guess_bound(failures_per_email: int, window: timedelta) -> float:
    """Upper bound of the chance that guessing finds any code of one address within a day.

    Every wrong verify is counted against the address, across codes, and the address is locked at
    `failures_per_email` in any `window` (at least a day), so within a day an attacker gets at most
    that many guesses, each against a code uniformly drawn from 10^6 (union bound)."""
    periods = max(1, math.ceil(timedelta(days=1) / window))
    return failures_per_email * periods / CODE_SPACE


def new_token() -> str:
    return secrets.token_urlsafe(32)


def session_id_for(token: str) -> str:
    """Sessions are stored and cached under the token's SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def effective_role(config: AppConfig, email: str, stored_role: str | None, stored_offices: list[str],
                   all_office_ids: list[str] | None = None) -> tuple[str, list[str]]:
    """System Admin comes only from config; otherwise the stored role (Default when absent)."""
    if config.is_system_admin(email):
        return SYSTEM_ADMIN, list(all_office_ids or [])
    if stored_role == OFFICE_ADMIN and stored_offices:
        return OFFICE_ADMIN, sorted(stored_offices)
    return DEFAULT, []


def user_view(config: AppConfig, email: str, quota: int | None, role: str | None,
              role_offices: list[str], auto_approved: bool,
              all_office_ids: list[str] | None = None) -> dict:
    """The SPEC §9 User for a profile (or for defaults when `role` etc. are None)."""
    name, offices = effective_role(config, email, role, role_offices, all_office_ids)
    system = name == SYSTEM_ADMIN
    admin = name in (SYSTEM_ADMIN, OFFICE_ADMIN)
    return {
        "email": email,
        "role": {"name": name, "offices": offices},
        "quota": config.default_weekly_quota if quota is None else quota,
        "custom_quota": quota is not None,
        "auto_approved": bool(auto_approved),
        "permissions": {
            "can_view_admin": admin,
            "can_view_users": admin,
            "can_edit_users": system,
            "can_manage_all_bookings": system,
            "can_manage_offices": system,
            "offices_can_manage": offices,
        },
    }


# ------------------------------------------------------------------------------ admin: users

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def profile(quota: int | None, role: str | None, role_offices: list[str] | None,
            auto_approved: bool | None, active: bool = True) -> dict:
    """The stored profile as events carry it (`user_changed` before/after): the quota override
    (None: default), the stored role and offices, auto-approval, and whether the account is
    active (SPEC §16: false once the identity provider disabled it). Never the email."""
    office_admin = role == OFFICE_ADMIN and bool(role_offices)
    return {"quota": quota, "role": OFFICE_ADMIN if office_admin else DEFAULT,
            "offices": sorted(role_offices or []) if office_admin else [], "auto_approved": bool(auto_approved),
            "active": bool(active)}


def group_offices(mapping: dict[str, list[str]], groups: list[str] | None, existing: set[str]) -> list[str]:
    """SPEC §16: the offices a signed-in user administers from their identity provider groups
    (config `oidc.group_offices`), only offices that exist; none: Default."""
    offices = {o for g in groups or [] for o in mapping.get(str(g), [])}
    return sorted(offices & existing)


DEFAULT_PROFILE = profile(None, DEFAULT, [], False)


class UpdateRejected(ValueError):
    """A change that breaks a rule; the message is for the user (InvalidUserUpdate, 400)."""


def apply_update(config: AppConfig, email: str, current: dict, changes, fields: set[str],
                 existing_offices: set[str] | None) -> dict:
    """The profile after `changes` (a validated `schemas.UserUpdate`; `fields`: those present).

    Absent fields stay unchanged; `quota: None` restores the default. System Admin can neither be
    granted nor taken away (it comes from the configuration); an Office Admin needs a non-empty
    list of existing office ids (`existing_offices`, retired ones included)."""
    new = dict(current)
    if "quota" in fields:
        new["quota"] = changes.quota
    if "auto_approved" in fields:
        if changes.auto_approved is None:
            raise UpdateRejected("Invalid auto_approved: must be true or false")
        new["auto_approved"] = changes.auto_approved
    if "role" in fields:
        role = changes.role
        if role is None:
            raise UpdateRejected("Invalid role: must be an object {name, offices}")
        if config.is_system_admin(email):
            if role.name == SYSTEM_ADMIN:
                return new  # already what the configuration says: nothing to change
            raise UpdateRejected("A System Admin's role comes from the configuration and cannot be changed")
        if role.name == SYSTEM_ADMIN:
            raise UpdateRejected("System Admin cannot be granted: System Admins come from the configuration")
        if role.name == OFFICE_ADMIN:
            offices = sorted(set(role.offices))
            if not offices:
                raise UpdateRejected("An Office Admin needs at least one office")
            unknown = [o for o in offices if o not in (existing_offices or set())]
            if unknown:
                raise UpdateRejected(f"Unknown office: {', '.join(unknown)[:200]}")
            new["role"], new["offices"] = OFFICE_ADMIN, offices
        else:
            new["role"], new["offices"] = DEFAULT, []
    return new


def encode_user_cursor(email: str) -> str:
    """An opaque keyset cursor: the email of the last user of a page (users are listed by email,
    so users added while someone pages through are neither repeated nor make others skipped)."""
    return base64.urlsafe_b64encode(f"u1|{email}".encode()).decode().rstrip("=")


def decode_user_cursor(cursor) -> str:
    """The email in a cursor; ValueError when it is not one this service handed out."""
    if not isinstance(cursor, str) or not cursor or len(cursor) > 400:
        raise ValueError("not a cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValueError("not a cursor") from None
    version, _, email = raw.partition("|")
    if version != "u1" or not email:
        raise ValueError("not a cursor")
    return email


def parse_flag(value) -> bool | None:
    """A filter flag: True/False, "true"/"false", or None/"" for no filter; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError("not a flag")


def clamp_limit(limit) -> int:
    if limit is None or limit == "":
        return DEFAULT_LIMIT
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise ValueError("not a number") from None
    return max(1, min(MAX_LIMIT, value))
