"""Notify persistence: the `mail` table. `service.py` (event handlers, status RPCs) and the
sender (`dependencies.Sender`) call these; the mails' contents are pure functions in `rules.py`.

A mail is stored once per source event (`store`: one statement for the events handled at once),
claimed by one sender at a time, and marked sent once the SMTP server has accepted it."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError
from sqlalchemy.sql.elements import ColumnClause

from obcommon.batching import GroupCommit
from obcommon.db import utcnow
from obcommon.service import Db

from . import rules
from .models import LOGIN_FIRST, Mail
from .schemas import Attachment

MAILS = cast(Table, Mail.__table__)  # Core statements on the table (no ORM objects per mail)


def store(db: Db, mails: list[rules.Mail]) -> bool:
    """Store one event's mails (all or none); False when the first was already stored (the event
    was delivered again). They are stored with the mails of the events this process's other
    workers handle meanwhile, in one statement (`_store_together`)."""
    return _stores.submit((db, mails))


def _store_together(events: list[tuple[Db, list[rules.Mail]]]) -> list[bool]:
    """Several events' mails in one INSERT (one statement in autocommit: all or none, no BEGIN or
    COMMIT round trip); each event's `store` outcome."""
    stored = _insert(events[0][0], [m for _, mails in events for m in mails])
    outcomes = []
    for _, mails in events:  # (an event twice in one batch: stored once)
        outcomes.append(bool(mails) and mails[0].source_id in stored)
        stored.difference_update(m.source_id for m in mails)
    return outcomes


def _store_alone(event: tuple[Db, list[rules.Mail]]) -> bool:
    db, mails = event
    return bool(mails) and mails[0].source_id in _insert(db, mails)


def _insert(db: Db, mails: list[rules.Mail]) -> set[str]:
    """Store these mails atomically; the source ids of those stored (not there before).

    Executed with the rows as parameters (SQLAlchemy's "insertmanyvalues": one multi-row INSERT,
    compiled once and cached; `.values(rows)` was compiled again on every call). Up to a page of
    rows that is one statement, atomic by itself in autocommit; more (a ballot's results) take
    several statements, in one transaction."""
    if not mails:
        return set()
    now = utcnow()
    rows = [_row(m.source_id, m.to, m.subject, m.body, m.kind, m.attachments, now) for m in mails]
    if len(rows) <= _ONE_STATEMENT:
        with db.autocommit() as connection:
            return set(connection.scalars(_INSERT, rows))
    with db.uow() as uow:
        stored = set(uow.session.scalars(_INSERT, rows))
        uow.commit()
    return stored


_INSERT = (insert(MAILS).on_conflict_do_nothing(index_elements=[MAILS.c.source_event_id])
           .returning(MAILS.c.source_event_id))
_ONE_STATEMENT = 1000  # SQLAlchemy's default insertmanyvalues page size: rows per INSERT

# A value PostgreSQL refuses makes the batch store event by event, so only that event's handler fails.
_stores = GroupCommit(_store_together, alone=_store_alone, isolate=(DataError,))


def _row(source_event_id: str, to: str, subject: str, body: str, kind: str, attachments: list[dict] | None,
         now: datetime) -> dict:
    stored = [Attachment.model_validate(a).model_dump() for a in attachments or []] or None
    return {"source_event_id": source_event_id, "kind": kind, "to_address": to, "subject": subject, "body": body,
            "attachments": stored, "created_at": now, "attempts": 0, "next_attempt_at": now}


# ------------------------------------------------------------------------------ sending


def claim_due(db: Db, claim_for: timedelta, limit: int = 1) -> list[dict]:
    """Up to `limit` of the due mails, claimed for `claim_for` (no other sender, in any replica,
    takes them meanwhile), each as {id, kind, attempts, to, subject, body, attachments,
    source_event_id}; empty when nothing is due. Sign-in codes first (a person is waiting at the
    sign-in page; a burst of booking confirmations must not hold them up), then oldest first.

    One statement in autocommit (the lock, the claim and the answer in one round trip: no BEGIN or
    COMMIT); `SKIP LOCKED`: a row another sender is claiming at this moment is left to it."""
    now = utcnow()
    due = (select(MAILS.c.id, MAILS.c.next_attempt_at.label("due_at"), _LOGIN_FIRST.label("rank"))
           .where(MAILS.c.sent_at.is_(None), MAILS.c.next_attempt_at <= now)
           .order_by(_LOGIN_FIRST, MAILS.c.next_attempt_at, MAILS.c.id)
           .limit(limit).with_for_update(skip_locked=True).subquery())
    with db.autocommit() as connection:
        rows = connection.execute(
            update(MAILS).where(MAILS.c.id == due.c.id).values(next_attempt_at=now + claim_for)
            .returning(due.c.rank, due.c.due_at, MAILS.c.id, MAILS.c.kind, MAILS.c.attempts, MAILS.c.to_address,
                       MAILS.c.subject, MAILS.c.body, MAILS.c.attachments, MAILS.c.source_event_id)).all()
    return [{"id": r.id, "kind": r.kind, "attempts": r.attempts, "to": r.to_address, "subject": r.subject,
             "body": r.body or "", "attachments": r.attachments, "source_event_id": r.source_event_id}
            for r in sorted(rows, key=lambda r: (r.rank, r.due_at, r.id))]  # (RETURNING keeps no order)


# The claim's first sort key, as the index `ix_mail_due` has it (literal SQL: a bound parameter
# would not match the index's expression).
_LOGIN_FIRST: ColumnClause[int] = literal_column(LOGIN_FIRST)


def release_claims(db: Db, mail_ids: list[int]) -> None:
    """Claimed mails this sender will not send now (its pass stopped at a failure): due again at
    once, for the next pass or another replica, instead of after the claim."""
    if not mail_ids:
        return
    with db.autocommit() as connection:
        connection.execute(update(MAILS).where(MAILS.c.id.in_(mail_ids), MAILS.c.sent_at.is_(None))
                           .values(next_attempt_at=utcnow()))


def record_failure(db: Db, mail_id: int, attempts: int, retry_in: timedelta, error: str) -> None:
    with db.autocommit() as connection:
        connection.execute(update(MAILS).where(MAILS.c.id == mail_id).values(
            attempts=attempts, next_attempt_at=utcnow() + retry_in, last_error=error))


def record_sent(db: Db, mail_id: int) -> None:
    """The mail went: its body and attachments (a sign-in code, booking details) are not kept.
    One statement in autocommit."""
    with db.autocommit() as connection:
        connection.execute(update(MAILS).where(MAILS.c.id == mail_id).values(
            sent_at=utcnow(), body=None, attachments=None, last_error=None))


# ------------------------------------------------------------------------------ status, retention, erasure


def pending_count(db: Db) -> int:
    with db.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Mail).where(Mail.sent_at.is_(None)))


def outbox_status(db: Db) -> tuple[int, int, datetime | None]:
    """(mails not sent yet, of which failed at least once, the oldest one's creation time)."""
    with db.uow() as uow:
        pending, failing, oldest = uow.session.execute(
            select(func.count(), func.count().filter(Mail.attempts > 0), func.min(Mail.created_at))
            .where(Mail.sent_at.is_(None))
        ).one()
    return pending, failing, oldest


def purge_sent(db: Db, cutoff: datetime) -> None:
    with db.uow() as uow:
        uow.session.execute(delete(Mail).where(Mail.sent_at < cutoff))
        uow.commit()


def erase_mails(db: Db, email: str) -> None:
    """Mails to `email` and about them (a reason notification names the user in its subject)."""
    with db.uow() as uow:
        uow.session.execute(delete(Mail).where(
            (func.lower(Mail.to_address) == email) | (func.strpos(func.lower(Mail.subject), email) > 0)))
        uow.commit()
