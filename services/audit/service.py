"""Audit: the trail of every change (SPEC §1, §4 retention and erasure, §8, §9 GET /api/audit).

One event handler per event of every audited contract (dependencies.AUDITED_CONTRACTS; a unit
test checks none is missing). Each reads the event as its audit envelope (`rules.Envelope`: the
common part of every event contract), since audit stores that and nothing else. Delivery is at-least-once: a message is acknowledged only after its record is
committed, and `event_id` is unique, so a redelivered event is stored once.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from nameko.timer import timer
from sqlalchemy.exc import DataError

from obcommon.db import utcnow
from obcommon.emails import normalize_email
from obcommon.service import BaseService, Database, command, consumes, rpc
from services.booking.contract import (
    BALLOT_DRAWN,
    BOOKING_CANCELLED,
    BOOKING_CHECKED_IN,
    BOOKING_CREATED,
    BOOKING_RELEASED,
    DAY_CHANGED,
    RECURRING_CREATED,
    RECURRING_DELETED,
    RECURRING_REFUSED,
    USER_BOOKINGS_ERASED,
    WAITLIST_CANCELLED,
    WAITLIST_EXPIRED,
    WAITLIST_JOINED,
    WAITLIST_LEFT,
    WAITLIST_PROMOTED,
)
from services.identity.contract import LOGIN_CODE_ISSUED, SESSION_REVOKED, USER_CHANGED, USER_ERASED, USER_SIGNED_IN
from services.offices.contract import OFFICE_CREATED, OFFICE_UPDATED

from . import repository, rules
from .contract import SERVICE
from .dependencies import PseudonymKey
from .exceptions import InvalidFilter
from .models import Base
from .rules import Envelope, ErasedEnvelope
from .schemas import AuditPage

log = logging.getLogger(__name__)

RETRY_PAUSE = 1.0  # seconds before a failed event goes back to the queue (database down)


class AuditService(BaseService):
    name = SERVICE

    db = Database(Base)
    pseudonyms = PseudonymKey()

    # ---------------------------------------------------------------- events in (every one of every contract)

    @consumes(LOGIN_CODE_ISSUED, reader=Envelope)
    def on_identity__login_code_issued(self, event: Envelope) -> None:
        self.record(event)

    @consumes(USER_SIGNED_IN, reader=Envelope)
    def on_identity__user_signed_in(self, event: Envelope) -> None:
        self.record(event)

    @consumes(SESSION_REVOKED, reader=Envelope)
    def on_identity__session_revoked(self, event: Envelope) -> None:
        self.record(event)

    @consumes(USER_CHANGED, reader=Envelope)
    def on_identity__user_changed(self, event: Envelope) -> None:
        self.record(event)

    @consumes(USER_ERASED, reader=ErasedEnvelope)
    def on_identity__user_erased(self, event: ErasedEnvelope) -> None:
        """Recorded, and the user's older records pseudonymised (see `_erasure`)."""
        self.record(event)

    @consumes(OFFICE_CREATED, reader=Envelope)
    def on_offices__office_created(self, event: Envelope) -> None:
        self.record(event)

    @consumes(OFFICE_UPDATED, reader=Envelope)
    def on_offices__office_updated(self, event: Envelope) -> None:
        self.record(event)

    @consumes(BOOKING_CREATED, reader=Envelope)
    def on_booking__booking_created(self, event: Envelope) -> None:
        self.record(event)

    @consumes(BOOKING_CANCELLED, reader=Envelope)
    def on_booking__booking_cancelled(self, event: Envelope) -> None:
        self.record(event)

    @consumes(BOOKING_CHECKED_IN, reader=Envelope)
    def on_booking__booking_checked_in(self, event: Envelope) -> None:
        self.record(event)

    @consumes(BOOKING_RELEASED, reader=Envelope)
    def on_booking__booking_released(self, event: Envelope) -> None:
        """SPEC §11: `booking_released`, actor `system` at the deadline (else the holder or admin)."""
        self.record(event)

    @consumes(USER_BOOKINGS_ERASED, reader=Envelope)
    def on_booking__user_bookings_erased(self, event: Envelope) -> None:
        self.record(event)

    @consumes(DAY_CHANGED, reader=Envelope)
    def on_booking__day_changed(self, event: Envelope) -> None:
        self.record(event)

    @consumes(WAITLIST_JOINED, reader=Envelope)
    def on_booking__waitlist_joined(self, event: Envelope) -> None:
        self.record(event)

    @consumes(WAITLIST_LEFT, reader=Envelope)
    def on_booking__waitlist_left(self, event: Envelope) -> None:
        self.record(event)

    @consumes(WAITLIST_PROMOTED, reader=Envelope)
    def on_booking__waitlist_promoted(self, event: Envelope) -> None:
        self.record(event)

    @consumes(WAITLIST_EXPIRED, reader=Envelope)
    def on_booking__waitlist_expired(self, event: Envelope) -> None:
        self.record(event)

    @consumes(WAITLIST_CANCELLED, reader=Envelope)
    def on_booking__waitlist_cancelled(self, event: Envelope) -> None:
        self.record(event)

    @consumes(RECURRING_CREATED, reader=Envelope)
    def on_booking__recurring_created(self, event: Envelope) -> None:
        self.record(event)

    @consumes(RECURRING_DELETED, reader=Envelope)
    def on_booking__recurring_deleted(self, event: Envelope) -> None:
        self.record(event)

    @consumes(RECURRING_REFUSED, reader=Envelope)
    def on_booking__recurring_refused(self, event: Envelope) -> None:
        self.record(event)

    @consumes(BALLOT_DRAWN, reader=Envelope)
    def on_booking__ballot_drawn(self, event: Envelope) -> None:
        """SPEC §13: one record per draw, with the seed, the ordered request ids and the outcome."""
        self.record(event)

    # ---------------------------------------------------------------- recording

    def record(self, event: Envelope) -> bool:
        """Store an event's envelope; False when it was already stored or cannot be recorded.

        A database failure raises, so the message is requeued and retried (nothing is lost).
        """
        try:
            row = rules.project(event)
        except rules.InvalidEvent as exc:
            log.error("dropped an event without a valid audit envelope: %s", exc)
            return False
        erasure = self._erasure(event, row)
        try:
            if (row["service"], row["action"]) == rules.ERASED_EVENT:  # alone: it takes the erasure lock
                stored, pseudonymised = repository.record(self.db, row, self.pseudonyms.pseudonym, erasure)
            else:  # with the records other workers are storing meanwhile (one transaction)
                stored, pseudonymised = repository.records.submit((self.db, self.pseudonyms.pseudonym, row)), None
        except DataError as exc:  # a value PostgreSQL refuses: retrying cannot help
            log.error("dropped event %s that cannot be stored: %s", row["event_id"], exc)
            return False
        except Exception:
            time.sleep(RETRY_PAUSE)  # no hot requeue loop while the database is away
            raise
        if pseudonymised is not None and erasure is not None:
            log.info("pseudonymised %d audit records of an erased user (%s)", pseudonymised, erasure[1])
        return stored

    # ---------------------------------------------------------------- reading

    @rpc
    def list_records(self, actor=None, offices=None, office=None, date_from=None, date_to=None,
                     limit=rules.DEFAULT_LIMIT, cursor=None) -> dict:
        """Newest first. `offices`: the offices the caller may see (None: all, SPEC §1)."""
        limit = rules.clamp_limit(limit)
        start, end = rules.time_range(date_from, date_to)
        after = rules.decode_cursor(cursor) if cursor else None
        if isinstance(offices, str):
            offices = [offices]
        if offices is not None and not offices:
            return {"records": [], "next_cursor": None}
        records, next_cursor = repository.list_records(
            self.db, normalize_email(str(actor)) if actor else None,
            [str(o) for o in offices] if offices is not None else None, str(office) if office else None,
            start, end, after, limit)
        return AuditPage(records=records, next_cursor=next_cursor).model_dump()

    # ---------------------------------------------------------------- erasure and retention

    @command
    def pseudonymise_actor(self, email: str, pseudonym: str) -> dict:
        """Replace an erased user's email (SPEC §4) in actor, entity_id, before and after."""
        email = normalize_email(str(email or ""))
        pseudonym = str(pseudonym or "").strip()
        if not email or not pseudonym:
            raise InvalidFilter("email and pseudonym are required")
        return {"records": repository.pseudonymise(self.db, email, pseudonym)}

    def _erasure(self, event: Envelope, row: dict) -> tuple[str, str] | None:
        """identity.user_erased: (email, pseudonym) of the user whose records the repository
        pseudonymises (keeping a tombstone for their events still on the way). The event itself
        names them by pseudonym only; its `email` is used here and never stored."""
        if (row["service"], row["action"]) != rules.ERASED_EVENT:
            return None
        email, pseudonym = getattr(event, "email", None), getattr(event, "pseudonym", None)
        if not email or not pseudonym:
            return None
        email = normalize_email(email)
        if self.pseudonyms.pseudonym(email) != pseudonym:
            log.warning("user_erased %s: pseudonym differs from audit's (is SECRET_KEY the same everywhere?)",
                        row["event_id"])
        return email, pseudonym

    @command
    def purge_older_than(self, days: int) -> dict:
        """Delete records older than `days` days (retention, SPEC §4)."""
        try:
            days = int(days)
        except (TypeError, ValueError):
            raise InvalidFilter("days must be a whole number") from None
        if days < 1:
            raise InvalidFilter("days must be at least 1")
        deleted = repository.purge_older_than(self.db, utcnow() - timedelta(days=days))
        if deleted:
            log.info("deleted %d audit records older than %d days", deleted, days)
        return {"records": deleted}

    @timer(interval=3600, eager=True)
    def purge_expired(self) -> None:
        self.purge_older_than(self.settings.data_retention_days)


Service = AuditService
