"""Payload schemas of the identity service's events and RPC results."""
from typing import Optional

from pydantic import BaseModel

from obcommon.messaging import EventPayload


class Role(BaseModel):
    name: str
    offices: list[str]


class Permissions(BaseModel):
    can_view_admin: bool
    can_view_users: bool
    can_edit_users: bool
    can_manage_all_bookings: bool
    can_manage_offices: bool
    offices_can_manage: list[str]


class User(BaseModel):
    """SPEC §9 User."""

    email: str
    role: Role
    quota: int
    custom_quota: bool
    auto_approved: bool
    permissions: Permissions


class SessionInfo(BaseModel):
    session_id: str
    email: str
    expires_at: str
    user: User


class LoginCodeIssued(EventPayload):
    """Carries the code to notify; audit keeps only the envelope, never `code`."""

    code: str
    expires_at: str
    ttl_minutes: int


class SessionRevoked(EventPayload):
    session_id: str
    email: str


class UserChanged(EventPayload):
    email: str
