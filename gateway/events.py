"""The events the gateway consumes, one named handler each (the wiring of gateway/sessions.py's
listener). Each is `@typed_handler(EventSpec)`, the parse of the services' `@consumes` without the
nameko entrypoint (and without loading the service base): the payload is validated against the
producer's contract and the handler gets the typed object; a malformed one is logged at ERROR
and dropped.

What they keep current on this replica: the session cache (logout, role and quota changes), the
offices and availability read model, and the live availability stream.
"""
from __future__ import annotations

from obcommon.messaging import typed_handler
from services.booking.contract import (
    BALLOT_DRAWN,
    BOOKING_CANCELLED,
    BOOKING_CREATED,
    BOOKING_RELEASED,
    DAY_CHANGED,
    USER_BOOKINGS_ERASED,
    WAITLIST_CANCELLED,
    WAITLIST_EXPIRED,
    WAITLIST_JOINED,
    WAITLIST_LEFT,
    WAITLIST_PROMOTED,
)
from services.booking.schemas import (
    BallotDrawn,
    BookingEvent,
    BookingReleased,
    DayChanged,
    UserBookingsErased,
    WaitlistEvent,
)
from services.identity.contract import SESSION_REVOKED, USER_CHANGED
from services.identity.schemas import SessionRevoked, UserChanged
from services.offices.contract import OFFICE_CREATED, OFFICE_UPDATED, OfficeEvent

from .live import EventHub
from .readmodel import Availability, effective_day
from .sessions import SessionCache


class GatewayEvents:
    def __init__(self, sessions: SessionCache, availability: Availability, hub: EventHub):
        self.sessions = sessions
        self.availability = availability
        self.hub = hub

    def handlers(self) -> list:
        """Every handler, bound (the listener binds its queue to each one's event)."""
        return [self.session_revoked, self.user_changed, self.office_created, self.office_updated,
                self.booking_created, self.booking_cancelled, self.booking_released, self.user_bookings_erased,
                self.day_changed, self.waitlist_joined, self.waitlist_left, self.waitlist_promoted,
                self.waitlist_expired, self.waitlist_cancelled, self.ballot_drawn]

    @typed_handler(SESSION_REVOKED)
    def session_revoked(self, event: SessionRevoked) -> None:
        self.sessions.evict_session(event.session_id)

    @typed_handler(USER_CHANGED)
    def user_changed(self, event: UserChanged) -> None:
        self.sessions.evict_email(event.email)

    @typed_handler(OFFICE_CREATED)
    def office_created(self, event: OfficeEvent) -> None:
        self._office_changed(event)

    @typed_handler(OFFICE_UPDATED)
    def office_updated(self, event: OfficeEvent) -> None:
        self._office_changed(event)

    def _office_changed(self, event: OfficeEvent) -> None:
        if event.after:
            self.availability.on_office_event({"after": event.after, "version": event.version})
        # System Admins' `role.offices` lists every office: cached users are refreshed.
        self.sessions.clear()

    @typed_handler(BOOKING_CREATED)
    def booking_created(self, event: BookingEvent) -> None:
        self._counts_changed(event.event_id, event.at, event.availability.model_dump())

    @typed_handler(BOOKING_CANCELLED)
    def booking_cancelled(self, event: BookingEvent) -> None:
        self._counts_changed(event.event_id, event.at, event.availability.model_dump())

    @typed_handler(BOOKING_RELEASED)
    def booking_released(self, event: BookingReleased) -> None:
        """SPEC §11: a released place is free at once (read model and live stream)."""
        self._counts_changed(event.event_id, event.at, event.availability.model_dump())

    @typed_handler(USER_BOOKINGS_ERASED)
    def user_bookings_erased(self, event: UserBookingsErased) -> None:
        """An erased user's bookings went: one update per office-day that changed, each
        with its own id, as booking_created / booking_cancelled carry them."""
        for a in event.availability:
            self._counts_changed(f"{event.event_id}:{a.office}:{a.date}", event.at, a.model_dump())

    @typed_handler(DAY_CHANGED)
    def day_changed(self, event: DayChanged) -> None:
        """An office-day's override (SPEC §15): the read model's slots, and the live stream."""
        payload = {"availability": event.availability.model_dump(),
                   "override": event.override.model_dump() if event.override else None}
        self.availability.on_day_event(payload)
        office = self.availability.office(event.availability.office) or {"quota": 0, "parking_quota": 0}
        live = {**event.availability.model_dump(), **effective_day(office, payload["override"] or {})}
        self.hub.on_booking_event({"event_id": event.event_id, "at": event.at, "availability": live})

    # -------------------------------------------------------------- the waitlist's live updates (SPEC §12, §13)

    @typed_handler(WAITLIST_JOINED)
    def waitlist_joined(self, event: WaitlistEvent) -> None:
        self._queue_changed(event)

    @typed_handler(WAITLIST_LEFT)
    def waitlist_left(self, event: WaitlistEvent) -> None:
        self._queue_changed(event)

    @typed_handler(WAITLIST_PROMOTED)
    def waitlist_promoted(self, event: WaitlistEvent) -> None:
        """The promoted user is told live (their entry, now with its booking); the rest of the queue
        moves up."""
        self._queue_changed(event)

    @typed_handler(WAITLIST_EXPIRED)
    def waitlist_expired(self, event: WaitlistEvent) -> None:
        self._queue_changed(event)

    @typed_handler(WAITLIST_CANCELLED)
    def waitlist_cancelled(self, event: WaitlistEvent) -> None:
        self._queue_changed(event)

    def _queue_changed(self, event: WaitlistEvent) -> None:
        """A `waitlist` event to the user whose entry changed, and to everyone still in that
        office-day's queue with their position (each sees only their own entries)."""
        office = event.office or ""
        entry = event.after or {}
        if entry.get("user"):
            self.hub.on_user_event(event.event_id, event.at, entry["user"], {
                "id": entry.get("id"), "office": office, "date": event.date, "status": entry.get("status"),
                "position": entry.get("position"), "booking_id": entry.get("booking_id")})
        for place in event.queue:
            if place.id != entry.get("id"):
                self.hub.on_user_event(f"{event.event_id}:{place.id}", event.at, place.user, {
                    "id": place.id, "office": office, "date": event.date, "status": "waiting",
                    "position": place.position, "booking_id": None})

    @typed_handler(BALLOT_DRAWN)
    def ballot_drawn(self, event: BallotDrawn) -> None:
        """SPEC §13: the winners' places (read model, live availability) and each requester's
        result, live."""
        self._counts_changed(event.event_id, event.at, event.availability.model_dump())
        office, day = event.office or "", (event.after or {}).get("date")
        for result in event.results:
            self.hub.on_user_event(f"{event.event_id}:{result.booking['id']}", event.at, result.booking["user"], {
                "id": result.waitlist_id, "office": office, "date": day,
                "status": "won" if result.outcome == "won" else "waiting", "position": result.position,
                "booking_id": result.booking["id"]})

    def _counts_changed(self, event_id: str, at: str, availability: dict) -> None:
        one = {"event_id": event_id, "at": at, "availability": availability}
        self.availability.on_booking_event(one)
        self.hub.on_booking_event(one)
