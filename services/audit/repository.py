"""Audit persistence: the service's SQL, one transaction per function. `service.py` is the entry
points (one handler per audited event); the pure rules (the envelope, filters, cursors, e-mail
substitution) are in `rules.py`."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Table, Text, case, cast, delete, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.exc import DataError

from obcommon.batching import GroupCommit
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


def record_many(db: Db, rows: list[dict], pseudonym_of: Callable[[str], str]) -> list[bool]:
    """Store the records of several events (none an erasure) in one transaction: the erasure lock
    taken once, one look-up of the erasures of every user they name, one INSERT. Returns each
    one's `stored` (False: its event was stored already, or earlier in `rows`)."""
    with db.uow() as uow:
        s = uow.session
        s.execute(text("SELECT pg_advisory_xact_lock_shared(hashtext('audit:erasure'))"))
        named = _erased_among(s, [pseudonym_of(e) for row in rows for e in rules.emails_in(row)])
        rows = [_pseudonymise_named(row, pseudonym_of, named) for row in rows]
        # the rows as parameters, on the table: one multi-row INSERT compiled once (SQLAlchemy's
        # "insertmanyvalues"; `.values(rows)` on the entity was compiled again on every batch)
        stored = set(s.scalars(_INSERT_RECORDS, rows))
        uow.commit()
    outcomes = []
    for row in rows:  # (an event twice in one batch: stored once)
        outcomes.append(row["event_id"] in stored)
        stored.discard(row["event_id"])
    return outcomes


# The records of the events a process's workers handle at the same time, stored together
# (obcommon.batching; items are (db, pseudonym_of, row)); a value PostgreSQL refuses makes the
# batch store record by record, so only that event fails.
records: GroupCommit[tuple[Db, Callable[[str], str], dict]] = GroupCommit(
    lambda items: record_many(items[0][0], [row for _, _, row in items], items[0][1]),
    alone=lambda item: record(item[0], item[2], item[1], None)[0], isolate=(DataError,))


RECORDS: Table = Record.__table__  # type: ignore[assignment]  # (a mapped class's Table)
_INSERT_RECORDS = (insert(RECORDS).on_conflict_do_nothing(index_elements=[RECORDS.c.event_id])
                   .returning(RECORDS.c.event_id))


def _erased_among(session, pseudonyms: list[str]) -> dict[str, datetime]:
    """The erasure time of each of these pseudonyms whose user was erased."""
    if not pseudonyms:
        return {}
    return dict(session.execute(select(Erasure.pseudonym, Erasure.erased_at)
                                .where(Erasure.pseudonym.in_(sorted(set(pseudonyms))))).tuples().all())


def _pseudonymise_named(row: dict, pseudonym_of: Callable[[str], str], erased: dict[str, datetime]) -> dict:
    """A record of an event from before an erasure (within ERASURE_GRACE) that names the erased
    user gets their pseudonym before it is stored; `erased`: the erasures looked up."""
    candidates = {pseudonym_of(e): e for e in rules.emails_in(row)}
    found = [p for p in candidates if p in erased and erased[p] >= row["at"] - rules.ERASURE_GRACE]
    return rules.substitute(row, {candidates[p]: p for p in found}) if found else row


def _pseudonymise_if_erased(session, row: dict, pseudonym_of: Callable[[str], str]) -> dict:
    """A record of an event from before an erasure that names the erased user gets their
    pseudonym before it is stored."""
    erased = _erased_among(session, [pseudonym_of(e) for e in rules.emails_in(row)])
    return _pseudonymise_named(row, pseudonym_of, erased)


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
