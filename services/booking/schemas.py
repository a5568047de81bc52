"""Payload schemas of the booking service's RPC results and events."""
from typing import Literal, Optional

from pydantic import BaseModel

from obcommon.messaging import EventPayload


class Slot(BaseModel):
    date: str
    booked: int
    booked_parking: int


class OfficeRef(BaseModel):
    id: str
    name: str


class Booking(BaseModel):
    """SPEC §9 Booking."""

    id: str
    user: str
    office: OfficeRef
    date: str
    parking: bool
    status: Literal["active", "cancelled"]
    created_at: str
    cancellable_until: str
    checked_in_at: Optional[str]  # always present (null until the first valid scan)


class Availability(BaseModel):
    """The counters of one office and day after a change (for live availability)."""

    office: str
    date: str
    booked: int
    booked_parking: int
    version: int


class BookingEvent(EventPayload):
    """booking_created / booking_cancelled. `after`/`before` hold the Booking. `reason` is for
    notify only (audit keeps the envelope, so the reason is stored nowhere else)."""

    availability: Availability
    office_timezone: str
    reason: Optional[str] = None
    reason_required: bool = False


class UserBookingsErased(EventPayload):
    """user_bookings_erased: an erased user's bookings were deleted (SPEC §4). The envelope names
    the user by pseudonym only; `availability` has the counters of every office and day that
    changed (for live availability)."""

    availability: list[Availability]


class StatsRow(BaseModel):
    """GET /api/stats: one office and day."""

    office: str
    date: str
    bookings: int
    parking: int
