"""Payload schemas of the booking service's RPC results and events."""
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from obcommon.messaging import EventPayload


class Slot(BaseModel):
    """One day of GET /api/offices/{id}: what is booked and the day's effective capacity (the
    office's, or the day's override: SPEC §15)."""

    date: str
    booked: int
    booked_parking: int
    quota: int
    parking_quota: int
    closed: bool
    note: str | None
    draw_at: str | None = None  # SPEC §13, a ballot office: when the day is drawn (ISO); until then, a request


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
    # SPEC §11 adds released; SPEC §13 requested (a ballot request) and waitlisted (it lost the draw)
    status: Literal["active", "cancelled", "released", "requested", "waitlisted"]
    created_at: str
    cancellable_until: str
    checked_in_at: str | None  # always present (null until the first valid scan)
    released_at: str | None = None  # SPEC §11: ISO UTC when released (at the deadline, or "I'm not coming")
    created_by: str | None = None  # who made it; "waitlist" when a waitlist promotion did (SPEC §12)


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
    reason: str | None = None
    reason_required: bool = False
    note: str | None = None  # booking_cancelled by a closure (SPEC §15): the day's note, for the mail
    draw_at: str | None = None  # a ballot request (SPEC §13): when its day is drawn (ISO, office offset)
    sequence: int = 0  # SPEC §14: the booking's calendar SEQUENCE after this change


class BookingReleased(BookingEvent):
    """booking_released (SPEC §11): `before`/`after` hold the Booking; `automatic` when the
    release job released it at the check-in deadline (actor `system`), else the holder or an admin
    did ("I'm not coming"); `check_in_deadline` is the office's "HH:MM" (for the mail)."""

    automatic: bool = False
    check_in_deadline: str | None = None


class WaitlistEntry(BaseModel):
    """SPEC §12 waitlist entry; `position` (1 = next) while waiting, else null; `status` waiting,
    promoted (to `booking_id`), left, expired or cancelled."""

    id: str
    user: str
    office: OfficeRef
    date: str
    parking: bool
    position: int | None
    created_at: str
    status: Literal["waiting", "promoted", "left", "expired", "cancelled"] = "waiting"
    booking_id: str | None = None


class QueuePlace(BaseModel):
    """One waiting entry's place in its office-day's queue."""

    id: str
    user: str
    position: int


class WaitlistEvent(EventPayload):
    """waitlist_joined / _left / _promoted / _expired / _cancelled (SPEC §12): `before`/`after`
    hold the entry; `queue` is the office-day's queue after the change (for live positions);
    `booking` the booking a promotion made; `note` a closure's note (cancelled by a closure)."""

    date: str
    queue: list[QueuePlace]
    office_timezone: str
    booking: dict | None = None
    note: str | None = None


class BallotResult(BaseModel):
    """One request's result in a draw: the request `before` and the booking after it (active when
    it `won`, `waitlisted` otherwise, with its waitlist entry and position)."""

    before: dict
    booking: dict
    outcome: Literal["won", "waitlisted"]
    sequence: int = 0  # the booking's calendar SEQUENCE after the draw (SPEC §14)
    waitlist_id: str | None = None
    position: int | None = None


class BallotDrawn(EventPayload):
    """ballot_drawn (SPEC §13): `after` is the audit record of the draw (office, date, seed,
    places, parking_places, requests {id: {office_days, parking, eligible}}, order, outcome: see
    docs/ballot.md); `results` (users included) is for the mails only, `availability` the day's
    counters after the winners, `queue` its waitlist."""

    availability: Availability
    office_timezone: str
    results: list[BallotResult]
    queue: list[QueuePlace]


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
    checked_in: int = 0  # SPEC §11: bookings of that day checked in
    released: int = 0  # released (at the deadline, or by their holder / an admin)
    no_show_rate: float | None = None  # released / bookings that reached their deadline; null when none did


class DayOverrideState(BaseModel):
    """An office-day's override (SPEC §15): quotas of its own (null: the office's), closed, note."""

    quota: int | None
    parking_quota: int | None
    closed: bool
    note: str | None


class DayChanged(EventPayload):
    """day_changed: an office-day's override was set, changed or removed. `before`/`after` hold
    the override (null: none); `override` is the one now in force, `availability` the day's
    counters (its `version` orders it against booking events); `cancelled` how many bookings a
    closure with cancel_existing cancelled (each has its own booking_cancelled)."""

    override: DayOverrideState | None
    availability: Availability
    cancelled: int = 0


class Day(BaseModel):
    """PUT /api/offices/{id}/days/{date}: the day as it now is."""

    office: str
    date: str
    quota: int
    parking_quota: int
    closed: bool
    note: str | None
    booked: int
    booked_parking: int
    overridden: bool
    cancelled: int


class DayUpdate(BaseModel):
    """PUT /api/offices/{id}/days/{date} (SPEC §15): any of these; absent fields stay as they are,
    `quota`/`parking_quota` null means the office's own again. `cancel_existing` (only with a
    closed day) cancels that day's bookings, each holder emailed with the note."""

    model_config = ConfigDict(extra="ignore")

    quota: int | None = Field(None, ge=0, le=100000)
    parking_quota: int | None = Field(None, ge=0, le=100000)
    closed: bool | None = None
    note: str | None = Field(None, max_length=500)
    cancel_existing: bool | None = None
