"""Pure identity rules: codes, tokens, roles and permissions (unit-tested without I/O)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Optional

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


def new_token() -> str:
    return secrets.token_urlsafe(32)


def session_id_for(token: str) -> str:
    """Sessions are stored and cached under the token's SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def effective_role(config: AppConfig, email: str, stored_role: Optional[str], stored_offices: list[str],
                   all_office_ids: Optional[list[str]] = None) -> tuple[str, list[str]]:
    """System Admin comes only from config; otherwise the stored role (Default when absent)."""
    if config.is_system_admin(email):
        return SYSTEM_ADMIN, list(all_office_ids or [])
    if stored_role == OFFICE_ADMIN and stored_offices:
        return OFFICE_ADMIN, sorted(stored_offices)
    return DEFAULT, []


def user_view(config: AppConfig, email: str, quota: Optional[int], role: Optional[str],
              role_offices: list[str], auto_approved: bool,
              all_office_ids: Optional[list[str]] = None) -> dict:
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
