"""Request and response models of the HTTP API (SPEC §9). They validate requests and generate
the OpenAPI document."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.booking.schemas import Booking, OfficeRef, Slot, WaitlistEntry
from services.identity.schemas import User
from services.offices.schemas import Office

from .errors import ERROR_CODES

if TYPE_CHECKING:
    ErrorCode = str
else:  # the enum of the error codes, in the OpenAPI document
    ErrorCode = Literal[tuple(ERROR_CODES)]


class ErrorBody(BaseModel):
    """Every error answer (SPEC §10, §18). Branch on `code`; `message` is for people."""

    message: str
    reference: str = Field(description="also in the log line and the X-Reference header")
    code: ErrorCode = Field(description="The stable kind of the error (branch on it, never on `message`):\n" + "\n".join(
        f"- `{code}`: {meaning}" for code, meaning in ERROR_CODES.items()))


class ConfigResponse(BaseModel):
    version: str
    email_regex: str
    advance_booking_days: int
    reason_to_book_required: bool
    show_test_banner: bool


class LoginMethods(BaseModel):
    """GET /api/auth/methods (SPEC §16): how people sign in here; `oidc_provider_name` names the
    provider on the sign-in page's button (null without oidc). Apart from /api/config, whose body
    is SPEC §9's exact contract."""

    login_methods: list[Literal["otac", "oidc"]]
    oidc_provider_name: str | None


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str = Field(max_length=320)


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str = Field(max_length=320)
    code: str = Field(max_length=20)


class VerifyResponse(BaseModel):
    token: str
    user: User


class OfficeListQuery(BaseModel):
    include_retired: Literal["true", "false"] | None = None


class OfficeWithSlots(Office):
    slots: list[Slot]


class BookingRequest(BaseModel):
    """POST /api/bookings. Unknown fields are ignored; `parking` defaults to false."""

    model_config = ConfigDict(extra="ignore")
    user: str = Field(max_length=320)
    office: str = Field(max_length=64)
    date: str = Field(max_length=32)
    parking: bool | None = False
    reason: str | None = Field(None, max_length=2000)


class BookingListQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    user: str | None = None
    office: str | None = None
    date: str | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    include_cancelled: Literal["true", "false"] | None = None


class PassResponse(BaseModel):
    booking: Booking
    code: str


class VerifyPassRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(max_length=2000)
    office: str = Field(max_length=64)


class VerifyPassResponse(BaseModel):
    valid: bool
    # SPEC §5, §11 (released), §13 (a ballot request: requested, waitlisted; never valid)
    status: Literal["ok", "wrong_day", "wrong_office", "cancelled", "released", "requested", "waitlisted", "invalid"]
    booking: Booking | None = None  # absent for invalid and wrong_office
    office: OfficeRef | None = None  # wrong_office only: the office the pass is for
    checked_in_at: str | None = None
    first_check_in: bool = False  # this scan recorded the check-in (a repeat scan: false)


class WaitlistRequest(BookingRequest):
    """POST /api/waitlist (SPEC §12): the fields of a booking request."""


class RecurringRequest(BaseModel):
    """POST /api/recurring (SPEC §14): ISO weekdays (1 = Monday … 7 = Sunday); `user` for admins
    booking on someone's behalf (default: the caller); `until` YYYY-MM-DD or null."""

    model_config = ConfigDict(extra="ignore")
    office: str = Field(max_length=64)
    weekdays: list[int] = Field(max_length=7)
    parking: bool | None = False
    until: str | None = Field(None, max_length=32)
    user: str | None = Field(None, max_length=320)
    reason: str | None = Field(None, max_length=2000)


class OccurrenceResult(BaseModel):
    date: str
    status: Literal["booked", "requested", "refused", "pending"]
    message: str | None = None  # why it was refused (SPEC §4's message)
    code: str | None = None
    booking_id: str | None = None


class RecurringPattern(BaseModel):
    id: str
    user: str
    office: str
    weekdays: list[int]
    parking: bool
    until: str | None
    created_at: str
    last_results: list[OccurrenceResult]


class RecurringQuery(BaseModel):
    user: str | None = Field(None, max_length=320)


class RangeCancelRequest(BaseModel):
    """POST /api/bookings/cancel-range (SPEC §14): the caller's own bookings in from … to."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    from_: str = Field(alias="from", max_length=32)
    to: str = Field(max_length=32)
    office: str | None = Field(None, max_length=64)


class KeptBooking(BaseModel):
    id: str
    message: str


class RangeCancelResponse(BaseModel):
    cancelled: int
    kept: list[KeptBooking]


class CalendarUrl(BaseModel):
    url: str = Field(description="the secret feed URL (https://…; open it as webcal://… in a calendar app)")


class WaitlistQuery(BaseModel):
    office: str | None = Field(None, max_length=64)
    date: str | None = Field(None, max_length=32)


class Health(BaseModel):
    status: str
    checks: dict[str, str] | None = None


__all__ = ["User", "Office", "Slot", "Booking", "WaitlistEntry"]


# ------------------------------------------------------------------ administration

from services.audit.schemas import AuditPage  # noqa: E402, F401 - re-exported for the routes
from services.booking.schemas import StatsRow  # noqa: E402
from services.identity.schemas import UserPage, UserUpdate  # noqa: E402, F401 - re-exported
from services.offices.schemas import OfficeCreate, OfficeUpdate  # noqa: E402, F401 - re-exported


class UserListQuery(BaseModel):
    role: Literal["Default", "Office Admin", "System Admin"] | None = None
    custom_quota: Literal["true", "false"] | None = None
    auto_approved: Literal["true", "false"] | None = None
    email_prefix: str | None = Field(None, max_length=254)
    limit: int | None = Field(None, description="1-200, default 50 (larger values are clamped)")
    cursor: str | None = Field(None, max_length=500)


class StatsQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str | None = Field(None, alias="from", max_length=32)
    to: str | None = Field(None, max_length=32)
    format: Literal["json", "csv"] | None = None


class StatsResponse(BaseModel):
    office_dates: list[StatsRow]


class AuditQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    actor: str | None = Field(None, max_length=320)
    office: str | None = Field(None, max_length=64)
    from_: str | None = Field(None, alias="from", max_length=32)
    to: str | None = Field(None, max_length=32)
    limit: int | None = Field(None, description="1-200, default 50 (larger values are clamped)")
    cursor: str | None = Field(None, max_length=500)


class SelftestResponse(BaseModel):
    office: str
    user: str
    bookings: int
    date: str
