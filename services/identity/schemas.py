"""Payload schemas of the identity service's events and RPC results."""
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from obcommon.messaging import EventPayload


class Role(BaseModel):
    name: Literal["Default", "Office Admin", "System Admin"]
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


class UserErased(EventPayload):
    """A System Admin erased a user (SPEC §4). The envelope (which audit stores) names the user by
    `pseudonym` only; `email` is for the services that delete the user's data (booking, notify)
    and for audit to pseudonymise its older records."""

    email: str
    pseudonym: str


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Literal["Default", "Office Admin", "System Admin"]
    offices: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=500)


class UserUpdate(BaseModel):
    """PUT /api/users/{email}: any of these; absent fields stay unchanged; `quota: null` restores
    the default weekly quota."""

    model_config = ConfigDict(extra="ignore")

    quota: int | None = Field(None, ge=0, le=100)
    role: RoleUpdate | None = None
    auto_approved: bool | None = None


class UserPage(BaseModel):
    users: list[User]
    next_cursor: str | None  # null at the end
