"""The events the gateway consumes, one named handler each (the wiring of gateway/sessions.py's
listener). Each is `@consumes(EventSpec)`, as in the services: the payload is validated against
the producer's contract and the handler gets the typed object; a malformed one is logged at ERROR
and dropped.

What they keep current on this replica: the session cache (logout, role and quota changes), the
offices and availability read model, and the live availability stream.
"""
from __future__ import annotations

from obcommon.messaging import EventPayload
from obcommon.service import consumes
from services.booking.contract import (
    BOOKING_CANCELLED,
    BOOKING_CREATED,
    BOOKING_RELEASED,
    DAY_CHANGED,
    USER_BOOKINGS_ERASED,
)
from services.booking.schemas import BookingEvent, BookingReleased, DayChanged, UserBookingsErased
from services.identity.contract import SESSION_REVOKED, USER_CHANGED
from services.identity.schemas import SessionRevoked, UserChanged
from services.offices.contract import OFFICE_CREATED, OFFICE_UPDATED

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
                self.booking_created, self.booking_cancelled, self.booking_released, self.user_bookings_erased, self.day_changed]

    @consumes(SESSION_REVOKED)
    def session_revoked(self, event: SessionRevoked) -> None:
        self.sessions.evict_session(event.session_id)

    @consumes(USER_CHANGED)
    def user_changed(self, event: UserChanged) -> None:
        self.sessions.evict_email(event.email)

    @consumes(OFFICE_CREATED)
    def office_created(self, event: EventPayload) -> None:
        self._office_changed(event)

    @consumes(OFFICE_UPDATED)
    def office_updated(self, event: EventPayload) -> None:
        self._office_changed(event)

    def _office_changed(self, event: EventPayload) -> None:
        if event.after:
            self.availability.on_office_event({"after": event.after})
        # System Admins' `role.offices` lists every office: cached users are refreshed.
        self.sessions.clear()

    @consumes(BOOKING_CREATED)
    def booking_created(self, event: BookingEvent) -> None:
        self._counts_changed(event.event_id, event.at, event.availability.model_dump())

    @consumes(BOOKING_CANCELLED)
    def booking_cancelled(self, event: BookingEvent) -> None:
        self._counts_changed(event.event_id, event.at, event.availability.model_dump())

    @consumes(BOOKING_RELEASED)
    def booking_released(self, event: BookingReleased) -> None:
        """SPEC §11: a released place is free at once (read model and live stream)."""
        self._counts_changed(event.event_id, event.at, event.availability.model_dump())

    @consumes(USER_BOOKINGS_ERASED)
    def user_bookings_erased(self, event: UserBookingsErased) -> None:
        """An erased user's bookings went: one update per office-day that changed, each
        with its own id, as booking_created / booking_cancelled carry them."""
        for a in event.availability:
            self._counts_changed(f"{event.event_id}:{a.office}:{a.date}", event.at, a.model_dump())

    @consumes(DAY_CHANGED)
    def day_changed(self, event: DayChanged) -> None:
        """An office-day's override (SPEC §15): the read model's slots, and the live stream."""
        payload = {"availability": event.availability.model_dump(),
                   "override": event.override.model_dump() if event.override else None}
        self.availability.on_day_event(payload)
        office = self.availability.office(event.availability.office) or {"quota": 0, "parking_quota": 0}
        live = {**event.availability.model_dump(), **effective_day(office, payload["override"] or {})}
        self.hub.on_booking_event({"event_id": event.event_id, "at": event.at, "availability": live})

    def _counts_changed(self, event_id: str, at: str, availability: dict) -> None:
        one = {"event_id": event_id, "at": at, "availability": availability}
        self.availability.on_booking_event(one)
        self.hub.on_booking_event(one)
