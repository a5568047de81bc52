"""Audit: the trail of every change (SPEC §1, §4 retention and erasure, §8, §9 GET /api/audit).

One event handler per event of every audited contract (dependencies.AUDITED_CONTRACTS; a unit
test checks none is missing). Each reads the event as its audit envelope (`rules.Envelope`: the
common part of every event contract), since audit stores that and nothing else. Delivery is at-least-once: a message is acknowledged only after its record is
committed, and `event_id` is unique, so a redelivered event is stored once.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

from nameko.timer import timer
from sqlalchemy import Text, case, cast, delete, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import DataError

from obcommon.db import utcnow
from obcommon.emails import normalize_email
from obcommon.service import BaseService, Database, command, consumes, rpc
from services.booking.contract import BOOKING_CANCELLED, BOOKING_CHECKED_IN, BOOKING_CREATED, USER_BOOKINGS_ERASED
from services.identity.contract import LOGIN_CODE_ISSUED, SESSION_REVOKED, USER_CHANGED, USER_ERASED, USER_SIGNED_IN
from services.offices.contract import OFFICE_CREATED, OFFICE_UPDATED

from . import rules
from .contract import SERVICE
from .dependencies import PseudonymKey
from .exceptions import InvalidFilter
from .models import Base, Erasure, Record
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
        """Recorded, and the user's older records pseudonymised (see `_erase`)."""
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

    @consumes(USER_BOOKINGS_ERASED, reader=Envelope)
    def on_booking__user_bookings_erased(self, event: Envelope) -> None:
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
        try:
            with self.db.uow() as uow:
                erasing = (row["service"], row["action"]) == rules.ERASED_EVENT
                # Erasures exclusive, other records shared: a record is either stored before an
                # erasure pseudonymises the table, or sees the erasure's tombstone (never neither).
                uow.session.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext('audit:erasure'))")
                                    if not erasing else
                                    text("SELECT pg_advisory_xact_lock(hashtext('audit:erasure'))"))
                row = self._pseudonymise_if_erased(uow.session, row)
                result = uow.session.execute(
                    insert(Record).values(**row).on_conflict_do_nothing(index_elements=[Record.event_id])
                )
                if erasing:
                    self._erase(uow.session, event, row)
                uow.commit()
        except DataError as exc:  # a value PostgreSQL refuses: retrying cannot help
            log.error("dropped event %s that cannot be stored: %s", row["event_id"], exc)
            return False
        except Exception:
            time.sleep(RETRY_PAUSE)  # no hot requeue loop while the database is away
            raise
        return bool(result.rowcount)

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
        query = select(Record)
        if actor:
            query = query.where(Record.actor == normalize_email(str(actor)))
        if offices is not None:
            query = query.where(Record.office.in_([str(o) for o in offices]))
        if office:
            query = query.where(Record.office == str(office))
        if start is not None:
            query = query.where(Record.at >= start)
        if end is not None:
            query = query.where(Record.at < end)
        if after is not None:
            query = query.where(tuple_(Record.at, Record.id) < tuple_(*after))
        query = query.order_by(Record.at.desc(), Record.id.desc()).limit(limit + 1)
        with self.db.uow() as uow:
            rows = uow.session.scalars(query).all()
            page = rows[:limit]
            next_cursor = rules.encode_cursor(page[-1].at, page[-1].id) if len(rows) > limit else None
            records = [rules.record_view(r) for r in page]
        return AuditPage(records=records, next_cursor=next_cursor).model_dump()

    # ---------------------------------------------------------------- erasure and retention

    @command
    def pseudonymise_actor(self, email: str, pseudonym: str) -> dict:
        """Replace an erased user's email (SPEC §4) in actor, entity_id, before and after."""
        email = normalize_email(str(email or ""))
        pseudonym = str(pseudonym or "").strip()
        if not email or not pseudonym:
            raise InvalidFilter("email and pseudonym are required")
        with self.db.uow() as uow:
            count = _replace_email(uow.session, email, pseudonym)
            uow.commit()
        return {"records": count}

    def _erase(self, session, event: ErasedEnvelope, row: dict) -> None:
        """identity.user_erased: pseudonymise the user's records and keep a tombstone (pseudonym
        and time only) for their events still on the way. The event itself names them by
        pseudonym only; its `email` is used here and never stored."""
        if not event.email or not event.pseudonym:
            return
        email, pseudonym = normalize_email(event.email), event.pseudonym
        if self.pseudonyms.pseudonym(email) != pseudonym:
            log.warning("user_erased %s: pseudonym differs from audit's (is SECRET_KEY the same everywhere?)",
                        row["event_id"])
        session.execute(insert(Erasure).values(pseudonym=pseudonym, erased_at=row["at"]).on_conflict_do_update(
            index_elements=[Erasure.pseudonym], set_={"erased_at": func.greatest(Erasure.erased_at, row["at"])}))
        count = _replace_email(session, email, pseudonym)
        log.info("pseudonymised %d audit records of an erased user (%s)", count, pseudonym)

    def _pseudonymise_if_erased(self, session, row: dict) -> dict:
        """A record of an event from before an erasure that names the erased user gets their
        pseudonym before it is stored."""
        candidates = {self.pseudonyms.pseudonym(e): e for e in rules.emails_in(row)}
        if not candidates:
            return row
        erased = session.scalars(select(Erasure.pseudonym).where(
            Erasure.pseudonym.in_(list(candidates)), Erasure.erased_at >= row["at"] - rules.ERASURE_GRACE)).all()
        return rules.substitute(row, {candidates[p]: p for p in erased})

    @command
    def purge_older_than(self, days: int) -> dict:
        """Delete records older than `days` days (retention, SPEC §4)."""
        try:
            days = int(days)
        except (TypeError, ValueError):
            raise InvalidFilter("days must be a whole number") from None
        if days < 1:
            raise InvalidFilter("days must be at least 1")
        with self.db.uow() as uow:
            result = uow.session.execute(delete(Record).where(Record.at < utcnow() - timedelta(days=days)))
            uow.session.execute(delete(Erasure).where(Erasure.erased_at < utcnow() - timedelta(days=days)))
            uow.commit()
        if result.rowcount:
            log.info("deleted %d audit records older than %d days", result.rowcount, days)
        return {"records": result.rowcount}

    @timer(interval=3600, eager=True)
    def purge_expired(self) -> None:
        self.purge_older_than(self.settings.data_retention_days)


def _replace_email(session, email: str, pseudonym: str) -> int:
    """Replace `email` by `pseudonym` in every record's actor, entity_id, before and after."""
    # Whole JSON string values only; jsonb::text prints strings as json.dumps does.
    old, new = json.dumps(email, ensure_ascii=False), json.dumps(pseudonym, ensure_ascii=False)

    def in_json(column):
        return func.strpos(cast(column, Text), old) > 0

    def replaced(column):
        return cast(func.replace(cast(column, Text), old, new), JSONB)

    result = session.execute(
        update(Record)
        .where(or_(Record.actor == email, Record.entity_id == email,
                   in_json(Record.before), in_json(Record.after)))
        .values(
            actor=case((Record.actor == email, pseudonym), else_=Record.actor),
            entity_id=case((Record.entity_id == email, pseudonym), else_=Record.entity_id),
            before=replaced(Record.before),
            after=replaced(Record.after),
        )
    )
    return result.rowcount


Service = AuditService
