"""Audit persistence: the service's SQL, one transaction per function. `service.py` is the entry
points (one handler per audited event); the pure rules (the envelope, filters, cursors, e-mail
substitution) are in `rules.py`."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Text, case, cast, delete, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from obcommon.service import Db

from . import rules
from .models import Erasure, Record


def record(db: Db, row: dict, pseudonym_of: Callable[[str], str],
           erasure: tuple[str, str] | None) -> tuple[bool, int | None]:
    """Store one record; returns (stored, pseudonymised): stored is False when its event was stored
    already. A record naming a user erased after its event gets their pseudonym first.

    `erasure` (email, pseudonym) comes with identity.user_erased: the user's older records are
    pseudonymised (`pseudonymised` says how many) and a tombstone kept, pseudonym and time only,
    for their events still on the way."""
    pseudonymised = None
    with db.uow() as uow:
        s = uow.session
        erasing = (row["service"], row["action"]) == rules.ERASED_EVENT
        # Erasures exclusive, other records shared: a record is either stored before an
        # erasure pseudonymises the table, or sees the erasure's tombstone (never neither).
        s.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext('audit:erasure'))") if not erasing else
                  text("SELECT pg_advisory_xact_lock(hashtext('audit:erasure'))"))
        row = _pseudonymise_if_erased(s, row, pseudonym_of)
        result = s.execute(insert(Record).values(**row).on_conflict_do_nothing(index_elements=[Record.event_id]))
        if erasing and erasure is not None:
            email, pseudonym = erasure
            s.execute(insert(Erasure).values(pseudonym=pseudonym, erased_at=row["at"]).on_conflict_do_update(
                index_elements=[Erasure.pseudonym], set_={"erased_at": func.greatest(Erasure.erased_at, row["at"])}))
            pseudonymised = replace_email(s, email, pseudonym)
        uow.commit()
    return bool(result.rowcount), pseudonymised


def _pseudonymise_if_erased(session, row: dict, pseudonym_of: Callable[[str], str]) -> dict:
    """A record of an event from before an erasure that names the erased user gets their
    pseudonym before it is stored."""
    candidates = {pseudonym_of(e): e for e in rules.emails_in(row)}
    if not candidates:
        return row
    erased = session.scalars(select(Erasure.pseudonym).where(
        Erasure.pseudonym.in_(list(candidates)), Erasure.erased_at >= row["at"] - rules.ERASURE_GRACE)).all()
    return rules.substitute(row, {candidates[p]: p for p in erased})


def list_records(db: Db, actor: str | None, offices: list[str] | None, office: str | None,
                 start: datetime | None, end: datetime | None, after: tuple[datetime, int] | None,
                 limit: int) -> tuple[list[dict], str | None]:
    """Newest first, a page of `limit` after the cursor position `after`: (records, next cursor)."""
    query = select(Record)
    if actor:
        query = query.where(Record.actor == actor)
    if offices is not None:
        query = query.where(Record.office.in_(offices))
    if office:
        query = query.where(Record.office == office)
    if start is not None:
        query = query.where(Record.at >= start)
    if end is not None:
        query = query.where(Record.at < end)
    if after is not None:
        query = query.where(tuple_(Record.at, Record.id) < tuple_(*after))
    query = query.order_by(Record.at.desc(), Record.id.desc()).limit(limit + 1)
    with db.uow() as uow:
        rows = uow.session.scalars(query).all()
        page = rows[:limit]
        next_cursor = rules.encode_cursor(page[-1].at, page[-1].id) if len(rows) > limit else None
        return [rules.record_view(r) for r in page], next_cursor


def pseudonymise(db: Db, email: str, pseudonym: str) -> int:
    with db.uow() as uow:
        count = replace_email(uow.session, email, pseudonym)
        uow.commit()
    return count


def purge_older_than(db: Db, cutoff: datetime) -> int:
    """Records and tombstones older than `cutoff` go (retention, SPEC §4); returns how many records."""
    with db.uow() as uow:
        result = uow.session.execute(delete(Record).where(Record.at < cutoff))
        uow.session.execute(delete(Erasure).where(Erasure.erased_at < cutoff))
        uow.commit()
    return result.rowcount


def replace_email(session, email: str, pseudonym: str) -> int:
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
