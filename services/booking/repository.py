"""Booking persistence: each decision is one transaction that locks, loads a snapshot, asks the
pure rule in `rules.py` (which raises the SPEC error or returns what to write) and writes it, with
its event in the outbox.

Concurrency design (see docs/architecture.md, "Booking decisions"):
- the office-day counter row is locked `FOR UPDATE` first: decisions for one office and day are
  serialised, so the duplicate, office and parking checks read settled numbers;
- then a transaction-scoped advisory lock on (user, Monday of the week) serialises one user's
  decisions across offices for the weekly quota;
- the lock order is always office-day, then user-week, so two decisions cannot deadlock;
- the booking insert, the counter update and the outbox event commit together or not at all.
"""
from __future__ import annotations

import functools
import hashlib
import json
import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased

from obcommon import calendar
from obcommon.config import AppConfig, Env
from obcommon.db import delete_rows, forget_answers_naming, outbox_insert
from obcommon.emails import normalize_email
from obcommon.messaging import DependencyUnavailable
from obcommon.service import Db

from . import rules
from .contract import (
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
from .exceptions import (
    REPLAYABLE,
    BookingError,
    BookingForbidden,
    BookingNotFound,
    DayChangeInvalid,
    FeedNotFound,
    IdempotencyKeyReused,
    InvalidRange,
    NoBookingToday,
    OfficeNotFound,
    PatternNotFound,
    WaitlistEntryNotFound,
)
from .models import (
    BallotDraw,
    Base,
    Booking,
    CalendarFeed,
    DayCount,
    DayOverride,
    IdempotencyKey,
    Occurrence,
    Office,
    OutboxMessage,
    RecurringPattern,
    RefusalSummary,
    UserSettings,
    WaitlistEntry,
)


def booking_json(b: Booking, office: Office | rules.Office) -> dict:
    """SPEC §9 Booking; `cancellable_until` is the owner's deadline, with the office's offset."""
    return {
        "id": b.id,
        "user": b.user,
        "office": {"id": office.id, "name": office.name},
        "date": b.date.isoformat(),
        "parking": b.parking,
        "status": b.status,
        "created_at": rules.iso_utc(b.created_at),
        "cancellable_until": rules.start_of_day(b.date, office.timezone).isoformat(),
        "checked_in_at": rules.iso_utc(b.checked_in_at) if b.checked_in_at else None,
        "released_at": rules.iso_utc(b.released_at) if b.released_at else None,
        "created_by": b.created_by,  # who booked it ("waitlist" for a promotion, SPEC §12)
    }


def set_status(booking: Booking, status: str, now: datetime) -> None:
    """A booking's status changes: its calendar event's SEQUENCE grows (SPEC §14)."""
    booking.status = status
    booking.sequence = (booking.sequence or 0) + 1
    booking.changed_at = now


def lock_day(session, office: str, day: date) -> DayCount:
    """The office-day's counter row, created if need be, locked `FOR UPDATE` to the commit."""
    session.execute(insert(DayCount).values(office=office, date=day, booked=0, booked_parking=0, version=0)
                    .on_conflict_do_nothing(index_elements=["office", "date"]))
    return session.scalars(
        select(DayCount).where(DayCount.office == office, DayCount.date == day).with_for_update()
    ).one()


def change_counts(row: DayCount, change: rules.CounterChange) -> rules.Counts:
    """Apply a decision's counter change to a locked counter row (written at the next flush)."""
    counts = rules.Counts(row.booked, row.booked_parking, row.version).changed(change)
    row.booked, row.booked_parking, row.version = counts.booked, counts.booked_parking, counts.version
    return counts


def availability(office: str, day: date, counts: rules.Counts) -> dict:
    """The `availability` payload of booking events: an office-day's counters after a change."""
    return {"office": office, "date": day.isoformat(), "booked": counts.booked,
            "booked_parking": counts.booked_parking, "version": counts.version}


def _office(row: Any) -> rules.Office:
    """An office of the read model, from an `Office` or a row with its columns."""
    return rules.Office(row.id, row.name, row.quota, row.parking_quota, row.timezone, row.retired,
                        row.check_in_deadline, row.allocation, row.ballot_draw_days_before, row.ballot_draw_time)


def _stored(booking: Booking, office: Office) -> rules.Stored:
    return rules.Stored(booking.user, booking.office, booking.date, booking.parking, booking.status == "active",
                        office.timezone, booking.status == "released", office.check_in_deadline,
                        booking.status if booking.status in ("requested", "waitlisted") else "")


# ------------------------------------------------------------------------------ create


def office_known(db: Db, office_id: str) -> bool:
    with db.uow() as uow:
        return uow.session.get(Office, office_id) is not None


def create_booking(db: Db, config: AppConfig, request: dict, caller: str, idempotency_key: str | None,
                   now: datetime, keep_refusals: bool = True) -> tuple[dict, dict | None]:
    """Returns (booking, event). A replayed idempotent request returns (first booking, None).

    With a key, the decision comes first and the key is written with its answer in the same
    transaction (an acceptance's in its write statement, a refusal's by `_keep_key`): a key already used within IDEMPOTENCY_TTL (a
    retry, or a concurrent first attempt, whose insert this statement waits for) makes the whole
    attempt roll back, and the stored first answer is returned instead (`_replay`). A rule's
    rejection is stored as the answer too; the rules reject before anything is written.

    `keep_refusals=False` (the key is the gateway's name for a call the client sent without one):
    a refusal is not stored, since it changed nothing and the client never saw an answer the key
    must repeat; a call delivered again is decided again, unless its first attempt committed (the
    key has an answer: that one). A busy day's refusals then write nothing (no key row, no WAL
    flush at commit).

    The key's answer is read by the decision's first statement (`_preview`), and read again after a
    refusal that only the locks revealed (a concurrent delivery of the same call may have held
    them): no extra round trip for the common refusal."""
    caller = normalize_email(caller)
    if not idempotency_key:
        preview = _checked_preview(db, config, request, now)
        with db.uow() as uow:
            booking, event, _ = _decide(uow, config, request, caller, now, preview=preview)
            uow.commit()
            return booking, event
    fingerprint = rules.request_fingerprint(request, _fingerprint_key())
    key = (caller, idempotency_key, fingerprint)
    for _ in range(3):  # a stored key that vanishes (retention) between the two steps: again
        error: BookingError | None = None
        response: dict | None = None
        kept: bool | None = None
        checked: rules.Snapshot | None
        try:
            checked = _checked_preview(db, config, request, now, key)
        except _Answered as answered:
            return answered.booking, None  # the key's first answer (a retry, a call delivered again)
        except BookingError as exc:
            if not keep_refusals:
                raise  # (the preview looked for an earlier answer of the key: there is none)
            checked, error = None, exc
        with db.uow() as uow:
            try:
                if checked is not None:
                    booking, event, kept = _decide(uow, config, request, caller, now, key, checked)
                    response = {"booking": booking}
            except _Answered as answered:
                return answered.booking, None  # (answered while we waited for the locks)
            except BookingError as exc:
                error = exc
            if error is not None and type(error).__name__ in REPLAYABLE:
                response = {"error": type(error).__name__, "message": error.message}
            if kept is None and error is not None and not keep_refusals:
                raise error  # (`_decide` looked for an earlier answer of the key: there is none)
            if kept is None and response is not None:  # not stored by the decision's write (a refusal, a request)
                kept = _keep_key(uow.session, caller, idempotency_key, fingerprint, response, now)
            if kept:
                uow.commit()
                if error is not None:
                    raise error
                return booking, event
        # rolled back: the key's first answer, if it has one, is the answer
        if (replayed := _replay(db, caller, idempotency_key, fingerprint, now)) is not None:
            return replayed
        if response is None and error is not None:
            raise error
    raise DependencyUnavailable("idempotency key in flux")


@functools.cache
def _fingerprint_key() -> bytes:
    return Env.from_environ().derive_key("idempotency-fingerprints")


# A plain-SQL statement's `text()` construct, built once per statement (building one parses its
# bind parameters on every call; these run for every decision).
_sql = functools.cache(text)


# The INSERT of a key with its answer (`_keep_key`, and a CTE of an acceptance's write): returns
# the key when stored, no row when another attempt's answer holds it.
_KEEP_KEY = (
    "INSERT INTO booking.idempotency_keys AS k (caller, key, fingerprint, response, created_at)"
    " VALUES (:caller, :key, :fingerprint, CAST(:response AS jsonb), :now)"
    " ON CONFLICT (caller, key) DO UPDATE SET fingerprint = excluded.fingerprint,"
    " response = excluded.response, created_at = excluded.created_at"
    " WHERE k.created_at <= :expired OR k.response IS NULL RETURNING k.key")


def _key_params(caller: str, key: str, fingerprint: str, response: dict, now: datetime) -> dict:
    return {"caller": caller, "key": key, "fingerprint": fingerprint, "response": json.dumps(response), "now": now,
            "expired": now - rules.IDEMPOTENCY_TTL}


def _keep_key(session, caller: str, key: str, fingerprint: str, response: dict, now: datetime) -> bool:
    """Store the key with this attempt's answer: False when the key holds another attempt's answer
    (given within IDEMPOTENCY_TTL; an older key, not purged yet, counts as never used). Waits while
    a concurrent attempt with the key is in flight."""
    # plain SQL: it runs for every refusal, and building and compiling a Core statement cost more
    # than the round trip (tools/bench_decisions)
    return session.execute(_sql(_KEEP_KEY), _key_params(caller, key, fingerprint, response, now)).first() is not None


_ANSWER = "SELECT fingerprint, response, created_at FROM booking.idempotency_keys WHERE caller = :caller AND key = :key"


def _replay(db: Db, caller: str, key: str, fingerprint: str, now: datetime) -> tuple[dict, None] | None:
    """The stored first answer of a key used within IDEMPOTENCY_TTL (its error raised again), or
    None if there is none. The same key with a different request is a conflict."""
    with db.uow() as uow:
        return _replay_in(uow.session, caller, key, fingerprint, now)


def _replay_in(s, caller: str, key: str, fingerprint: str, now: datetime) -> tuple[dict, None] | None:
    """`_replay` in the session `s`."""
    row = s.execute(_sql(_ANSWER), {"caller": caller, "key": key}).first()
    return _answer(row.fingerprint, row.response, row.created_at, fingerprint, now) if row else None


def _answer(stored_fingerprint: str | None, response: dict | None, created_at: datetime | None, fingerprint: str,
            now: datetime) -> tuple[dict, None] | None:
    """A stored key's answer: (booking, None), its refusal raised again, IdempotencyKeyReused for
    another request under the key; None when the key has no answer within IDEMPOTENCY_TTL."""
    if response is None or created_at is None or created_at <= now - rules.IDEMPOTENCY_TTL:
        return None
    if stored_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if "error" in response:
        raise REPLAYABLE[response["error"]](response["message"])
    return response["booking"], None


class _Answered(Exception):  # noqa: N818 - not an error: how `_decide` hands back a key's first answer
    def __init__(self, booking: dict):
        super().__init__()
        self.booking = booking


def _raise_answer(s, key: tuple[str, str, str] | None, row: Any, now: datetime) -> None:
    """With `key` = (caller, Idempotency-Key, fingerprint): if the key already has an answer,
    raise it (`_Answered` with the booking, or the stored refusal). `row` carries the key's
    columns when the preview read them (`key_*`); otherwise the key is looked up."""
    if key is None:
        return
    caller, idempotency_key, fingerprint = key
    found = (_answer(row.key_fingerprint, row.key_response, row.key_created_at, fingerprint, now) if row is not None
             else _replay_in(s, caller, idempotency_key, fingerprint, now))
    if found is not None:
        raise _Answered(found[0])


HELD = ("active", "requested")  # statuses that hold a user's day (rule 8) and count toward rule 11


def _load_snapshot(s, wanted: rules.Request, settings: rules.Settings, now: datetime) -> rules.Snapshot:
    """A decision's snapshot, under its locks (the office-day counter row, then the user's week)."""
    return _locked_snapshot(s, wanted, _preview(s, wanted, settings, now))


# The user's active and requested bookings of the request's week, as [[office, date], …] (rule 11).
_WEEK = ("(SELECT coalesce(json_agg(json_build_array(b.office, b.date)), '[]') FROM booking.bookings b"
         " WHERE b.\"user\" = :user AND b.status = ANY(:held) AND b.date BETWEEN :monday AND :sunday)")


def _week_params(wanted: rules.Request, office: str) -> dict:
    monday, sunday = rules.week_of(wanted.day)
    return {"office": office, "day": wanted.day, "user": wanted.user, "held": list(HELD), "monday": monday,
            "sunday": sunday}


# The decision's first statement (`_preview`), built once: plain SQL, since this runs for every
# request and SQLAlchemy's compiling costs more than it checks here.
_PREVIEW = text(
    "SELECT f.id, f.name, f.quota, f.parking_quota, f.timezone, f.retired, f.check_in_deadline, f.allocation,"
    " f.ballot_draw_days_before, f.ballot_draw_time, u.quota AS user_quota, u.auto_approved,"
    " c.booked, c.booked_parking, c.version, o.quota AS day_quota, o.parking_quota AS day_parking_quota,"
    " o.closed, o.note, o.office IS NOT NULL AS overridden,"
    " EXISTS (SELECT 1 FROM booking.ballot_draws d WHERE d.office = f.id AND d.date = :day) AS drawn,"
    f" {_WEEK} AS week,"
    " k.fingerprint AS key_fingerprint, k.response AS key_response, k.created_at AS key_created_at"
    " FROM booking.offices f"
    " LEFT JOIN booking.user_settings u ON u.email = :user"
    " LEFT JOIN booking.day_counts c ON c.office = f.id AND c.date = :day"
    " LEFT JOIN booking.day_overrides o ON o.office = f.id AND o.date = :day"
    " LEFT JOIN booking.idempotency_keys k ON k.caller = :key_caller AND k.key = :key"
    " WHERE f.id = :office"
)


def _preview(s, wanted: rules.Request, settings: rules.Settings, now: datetime,
             key: tuple[str, str, str] | None = None) -> rules.Snapshot:
    """Everything a decision reads, in one statement and without a lock (so one consistent
    snapshot of the moment it ran); rules 5–7 checked on it. A rule it breaks was broken at that
    moment, within the request's lifetime: `_decide` rejects on it at once, holding no lock, so
    the many requests a full day gets do not queue behind the bookings on its counter row. Only
    an acceptance needs the locks (`_locked_snapshot`), and is decided again under them.

    With `key` = (caller, Idempotency-Key, fingerprint) the same statement reads the key's stored
    answer (its `key_*` columns), so a retry, or a call delivered again, is answered
    (`_raise_answer`) without another round trip."""
    caller, idempotency_key, _ = key or (None, None, None)
    row = s.execute(_PREVIEW, {**_week_params(wanted, office=wanted.office), "key_caller": caller,
                              "key": idempotency_key}).first()
    _raise_answer(s, key, row, now)
    office = _office(row) if row else None
    user_quota, auto_approved = (row.user_quota, bool(row.auto_approved)) if row else (None, False)
    rules.admit(wanted, rules.Snapshot(office, user_quota, auto_approved), settings, now)
    assert office is not None and row is not None  # rule 5: admit refused an unknown office
    override = rules.Override(row.day_quota, row.day_parking_quota, bool(row.closed), row.note) if row.overridden else None
    return rules.Snapshot(office, user_quota, auto_approved,
                          rules.Counts(row.booked or 0, row.booked_parking or 0, row.version or 0),
                          tuple(rules.Held(o, date.fromisoformat(d)) for o, d in row.week), override,
                          office.allocation == "ballot" and bool(row.drawn))


# The statements of `_locked_snapshot`, built once: the office-day counter row (created if need
# be) locked and the user's week locked; then the day's override, whether it was drawn, the week.
_LOCK_DAY_AND_WEEK = text(
    "WITH d AS (INSERT INTO booking.day_counts AS c (office, date, booked, booked_parking, version)"
    " VALUES (:office, :day, 0, 0, 0) ON CONFLICT (office, date) DO UPDATE SET version = c.version"
    " RETURNING booked, booked_parking, version)"
    " SELECT d.booked, d.booked_parking, d.version, pg_advisory_xact_lock(hashtext(:week_key)) FROM d"
)
_LOCKED_DAY = text(
    "SELECT o.quota, o.parking_quota, o.closed, o.note, o.office IS NOT NULL,"
    " EXISTS (SELECT 1 FROM booking.ballot_draws d WHERE d.office = :office AND d.date = :day),"
    f" {_WEEK}"
    " FROM (SELECT 1) AS one LEFT JOIN booking.day_overrides o ON o.office = :office AND o.date = :day"
)


def _locked_snapshot(s, wanted: rules.Request, preview: rules.Snapshot) -> rules.Snapshot:
    """The snapshot again, under the locks: the office-day counter row, then the user's week
    (always in this order). Few round trips: the office-day lock is held from the first statement
    to the commit, so every statement in between delays the next decision for that office and day."""
    office = preview.office
    assert office is not None
    booked, booked_parking, version = s.execute(_LOCK_DAY_AND_WEEK, {
        "office": office.id, "day": wanted.day, "week_key": _week_key(wanted.user, wanted.day)}).one()[:3]
    # A new statement, so a new snapshot: it sees every booking, override and draw committed
    # before our locks. One round trip: the user's week, the day's override, whether it was drawn.
    row = s.execute(_LOCKED_DAY, _week_params(wanted, office=office.id)).one()
    override = rules.Override(row[0], row[1], bool(row[2]), row[3]) if row[4] else None
    drawn = office.allocation == "ballot" and bool(row[5])
    week = tuple(rules.Held(o, date.fromisoformat(d)) for o, d in row[6])
    return rules.Snapshot(office, preview.user_quota, preview.auto_approved,
                          rules.Counts(booked, booked_parking, version), week, override, drawn)


def _week_key(user: str, day: date) -> str:
    """The advisory lock of one user's Monday–Sunday week (rule 11)."""
    return f"user-week:{user}:{rules.week_of(day)[0]}"


def _lock_user_weeks(s, users_days: set[tuple[str, date]]) -> None:
    """Take the user-week locks of several users at once, in one sorted order (a promotion or a
    draw holds an office-day and needs every candidate's week: sorted, two of them cannot
    deadlock; a decision takes one user-week lock after its office-day, never an office-day
    after a user-week)."""
    keys = sorted({_week_key(user, day) for user, day in users_days})
    if keys:
        s.execute(text("SELECT count(pg_advisory_xact_lock(hashtext(k)))"
                       " FROM (SELECT unnest(CAST(:keys AS text[])) AS k ORDER BY 1) AS ordered"), {"keys": keys})


def _checked_preview(db: Db, config: AppConfig, request: dict, now: datetime,
                     key: tuple[str, str, str] | None = None) -> rules.Snapshot:
    """The decision's lock-free preview (`_preview`), read outside any transaction (`Db.autocommit`: no
    BEGIN or ROLLBACK round trip for the many refusals of a full day), with rules 5–11 checked on
    it: raises the rule's refusal, or `_Answered`/the stored refusal when `key` has an answer."""
    wanted, settings = rules.Request.of(request), rules.Settings.of(config)
    with db.autocommit() as connection:
        preview = _preview(connection, wanted, settings, now, key)
    rules.decide(wanted, preview, settings, now)
    return preview


def _decide(uow, config: AppConfig, request: dict, caller: str, now: datetime,
            key: tuple[str, str, str] | None = None,
            preview: rules.Snapshot | None = None) -> tuple[dict, dict, bool | None]:
    """Load the snapshot under the locks, let `rules.decide` rule, write what it decided (a ballot
    request, SPEC §13, is written with status `requested` and leaves the counters alone).
    Returns (booking, event, kept): with `key` = (caller, Idempotency-Key, fingerprint), an
    acceptance stores the key with its answer in its write statement, and `kept` says whether it
    could (False: another attempt holds the key); None when the key was not stored here.
    `preview`: the request's checked preview (`_checked_preview`), else read here."""
    s = uow.session
    wanted = rules.Request.of(request)
    settings = rules.Settings.of(config)
    if preview is None:
        preview = _preview(s, wanted, settings, now, key)  # (a key with an answer: that answer, `_Answered`)
        rules.decide(wanted, preview, settings, now)  # rules 5–11 on the lock-free preview: a rejection locks nothing
    snapshot = _locked_snapshot(s, wanted, preview)
    office = snapshot.office
    assert office is not None
    try:
        new = rules.decide(wanted, snapshot, settings, now)  # and again under the locks: the decision
    except BookingError:
        # A refusal only under the locks: what changed since the preview may be a delivery of this
        # same call that held them first (the broker delivers a call again when a connection dies
        # while its first delivery runs): its answer, if it committed one.
        _raise_answer(s, key, None, now)
        raise

    status = "requested" if new.requested else "active"
    booking = Booking(id=uuid.uuid4().hex, user=new.user, office=office.id, date=new.day, parking=new.parking,
                      status=status, created_at=now, created_by=caller)
    result = booking_json(booking, office)
    fields = {"actor": caller, "entity": "booking", "entity_id": booking.id, "office": office.id, "after": result,
              "availability": availability(office.id, new.day, new.counts), "office_timezone": office.timezone,
              "reason": new.reason, "reason_required": new.reason_required, "sequence": 0,
              "draw_at": moment.isoformat() if new.requested and (moment := rules.draw_at(office, new.day)) else None}
    if new.requested:
        s.execute(insert(Booking).values(id=booking.id, user=booking.user, office=booking.office, date=booking.date,
                                         parking=booking.parking, status=status, created_at=now, created_by=caller,
                                         sequence=0))
        return result, uow.emit(BOOKING_CREATED, **fields), None
    # Every write of an acceptance in one round trip, while the office-day lock is held: the
    # booking, its counter, its event (outbox) and, with a key, the key with this answer. Plain
    # SQL: building and compiling it as a Core statement took CPU under the lock.
    event, outbox_params = uow.emit_values(BOOKING_CREATED, **fields)
    params = {"id": booking.id, "user": booking.user, "office": office.id, "date": new.day, "parking": new.parking,
              "now": now, "caller": caller, "booked": new.counts.booked, "booked_parking": new.counts.booked_parking,
              "version": new.counts.version, **outbox_params}
    if key is None:
        s.execute(_sql(_ACCEPT), params)
        return result, event, None
    caller_key, idempotency_key, fingerprint = key
    params.update(_key_params(caller_key, idempotency_key, fingerprint, {"booking": result}, now))
    kept = s.execute(_sql(_ACCEPT_KEYED), params).one()[-1]
    return result, event, kept is not None


# An acceptance's writes (`_decide`): each CTE is one row (the key's none when another attempt
# holds it: an outer join on purpose).
_ACCEPT_WRITES = (
    "WITH ins AS (INSERT INTO booking.bookings (id, \"user\", office, date, parking, status, created_at,"
    " created_by, sequence) VALUES (:id, :user, :office, :date, :parking, 'active', :now, :caller, 0) RETURNING id),"
    " counted AS (UPDATE booking.day_counts SET booked = :booked, booked_parking = :booked_parking,"
    " version = :version WHERE office = :office AND date = :date RETURNING version),"
    f" queued AS ({outbox_insert(OutboxMessage)} RETURNING id)")
_ACCEPT = _ACCEPT_WRITES + " SELECT ins.id, counted.version, queued.id FROM ins JOIN counted ON true JOIN queued ON true"
_ACCEPT_KEYED = (_ACCEPT_WRITES + f", kept AS ({_KEEP_KEY})"
                 " SELECT ins.id, counted.version, queued.id, kept.key FROM ins JOIN counted ON true"
                 " JOIN queued ON true LEFT JOIN kept ON true")


# ------------------------------------------------------------------------------ cancel


def cancel_booking(db: Db, config: AppConfig, booking_id: str, caller: dict, now: datetime) -> dict:
    """Cancel per SPEC §4; returns {office, date} of the booking. `caller`: {email, system_admin,
    offices}. The freed place goes to the day's waitlist in the same transaction (SPEC §12). A
    ballot request (SPEC §13) is cancelled without touching the counters (nor their lock)."""
    who = rules.Caller.of(caller)
    with db.uow() as uow:
        s = uow.session
        row = s.execute(select(Booking, Office).join(Office, Office.id == Booking.office)
                        .where(Booking.id == booking_id).with_for_update(of=Booking)).first()
        change = rules.decide_cancel(_stored(row[0], row[1]) if row else None, who, now)
        assert row is not None  # decide_cancel refused an unknown booking
        booking, office = row
        before = booking_json(booking, office)
        was_active = booking.status == "active"
        set_status(booking, "cancelled", now)
        booking.cancelled_at = now
        booking.cancelled_by = who.email
        counter = lock_day(s, booking.office, booking.date) if was_active else None
        counts = change_counts(counter, change) if counter is not None else _counts(s, booking.office, booking.date)
        s.flush()
        uow.emit(BOOKING_CANCELLED, actor=who.email, entity="booking", entity_id=booking.id, office=booking.office,
                 before=before, after=booking_json(booking, office),
                 availability=availability(booking.office, booking.date, counts), office_timezone=office.timezone,
                 sequence=booking.sequence)
        if counter is not None:
            promote_waiting(uow, office, {booking.date: counter}, rules.Settings.of(config), now)
        uow.commit()
        return {"office": booking.office, "date": booking.date.isoformat()}


def _counts(s, office: str, day: date) -> rules.Counts:
    """An office-day's counters, read without a lock (for an event that does not change them)."""
    row = s.get(DayCount, (office, day))
    return rules.Counts(row.booked, row.booked_parking, row.version) if row else rules.Counts()


# ------------------------------------------------------------------------------ reads


def get_booking(db: Db, booking_id: str) -> dict:
    with db.uow() as uow:
        row = uow.session.execute(select(Booking, Office).join(Office, Office.id == Booking.office)
                                  .where(Booking.id == booking_id)).first()
        if row is None:
            raise BookingNotFound()
        return booking_json(*row)


def verify_pass(db: Db, booking_id: str, office_id: str, actor: str, now: datetime) -> dict:
    """SPEC §5 at the door of `office_id`: cancelled, wrong_office, wrong_day or ok (in that
    order). The first ok scan records the check-in (audited); later ones show when it was."""
    with db.uow() as uow:
        s = uow.session
        row = s.execute(select(Booking, Office).join(Office, Office.id == Booking.office)
                        .where(Booking.id == booking_id).with_for_update(of=Booking)).first()
        if row is None:
            raise BookingNotFound()
        booking, office = row
        status = rules.pass_status(_stored(booking, office), office_id, now)
        first = status == "ok" and booking.checked_in_at is None
        if first:
            before = booking_json(booking, office)
            booking.checked_in_at = now
            uow.emit(BOOKING_CHECKED_IN, actor=normalize_email(actor), entity="booking", entity_id=booking.id,
                     office=booking.office, before=before, after=booking_json(booking, office))
        result = booking_json(booking, office)
        uow.commit()
    return {"status": status, "booking": result, "checked_in_at": result["checked_in_at"], "first_check_in": first}


def list_bookings(db: Db, config: AppConfig, now: datetime, *, user=None, offices=None, office=None,
                  date_from=None, date_to=None, include_cancelled=False) -> list[dict]:
    """Bookings by date then office. `offices` limits to those offices (None: all); the default
    range is today − retention … end of the bookable window; `date_from`/`date_to` narrow it."""
    lo, hi = rules.default_list_range(now, config.default_timezone, config.data_retention_days,
                                      config.advance_booking_days)
    # Offices east or west of the default zone may be a day ahead or behind.
    lo, hi = lo - timedelta(days=1), hi + timedelta(days=1)
    start, end = rules.parse_day(date_from), rules.parse_day(date_to)
    start = max(lo, start) if start else lo
    end = min(hi, end) if end else hi
    query = (select(Booking, Office).join(Office, Office.id == Booking.office)
             .where(Booking.date >= start, Booking.date <= end)
             .order_by(Booking.date, Booking.office, Booking.created_at))
    if user:
        query = query.where(Booking.user == normalize_email(user))
    if offices is not None:
        query = query.where(Booking.office.in_(list(offices)))
    if office:
        query = query.where(Booking.office == office)
    if not include_cancelled:  # active bookings and ballot requests (SPEC §11, §13)
        query = query.where(Booking.status.in_(HELD))
    with db.uow() as uow:
        return [booking_json(b, o) for b, o in uow.session.execute(query)]


def slots(db: Db, office_id: str, days: list[date]) -> list[dict]:
    """Per day: the counters, their version and the day's override (None when it has none)."""
    with db.uow() as uow:
        rows = {r.date: r for r in uow.session.scalars(
            select(DayCount).where(DayCount.office == office_id, DayCount.date.in_(days)))}
        overrides = {r.date: _override(r) for r in uow.session.scalars(
            select(DayOverride).where(DayOverride.office == office_id, DayOverride.date.in_(days)))}
        return [{"date": d.isoformat(), "booked": rows[d].booked if d in rows else 0,
                 "booked_parking": rows[d].booked_parking if d in rows else 0,
                 "version": rows[d].version if d in rows else 0,
                 "override": o.as_dict() if (o := overrides.get(d)) is not None else None} for d in days]


# ------------------------------------------------------------------------------ day overrides (SPEC §15)


def _override(row: DayOverride | None) -> rules.Override | None:
    return rules.Override(row.quota, row.parking_quota, row.closed, row.note) if row is not None else None


def set_day(db: Db, config: AppConfig, office_id: str, day_value: str, fields: dict, actor: str, now: datetime,
            remove: bool = False) -> dict:
    """Set (or with `remove`, delete) one office-day's override, under the office-day counter lock
    that every decision for that day takes, so bookings and the change are serialised: a booking
    decided after it sees the new capacity. Closing with cancel_existing cancels the day's active
    bookings in the same transaction (a booking_cancelled each, with the note, for the holder's
    mail). The change bumps the day's version and emits day_changed (audited; the gateways' read
    models). Returns the day (`Day`)."""
    actor = normalize_email(actor)
    try:
        day = date.fromisoformat(str(day_value))
    except ValueError:
        raise DayChangeInvalid("Invalid date format") from None
    with db.uow() as uow:
        s = uow.session
        row = s.get(Office, office_id)
        if row is None:
            raise OfficeNotFound()
        office = _office(row)
        change = rules.DayChange() if remove else rules.DayChange.of(fields)
        decision: rules.DayDecision | None = None
        if remove:
            rules.decide_day(office, day, None, change, now)  # the date check alone
            decision = rules.DayDecision(None, False)
        # Lock order as a cancellation's: the day's booking rows first, then the counter row.
        doomed: list[Booking] = []
        if not remove and bool(fields.get("cancel_existing")):
            doomed = list(s.scalars(select(Booking).where(Booking.office == office_id, Booking.date == day,
                                                          Booking.status.in_(HELD))
                                    .order_by(Booking.id).with_for_update()).all())
        counter = lock_day(s, office_id, day)
        current = _override(s.get(DayOverride, (office_id, day), populate_existing=True))
        if decision is None:
            decision = rules.decide_day(office, day, current, change, now)  # raises the 400s
        if decision.cancel_existing:  # bookings made before we held the lock
            seen = {b.id for b in doomed}
            doomed += [b for b in s.scalars(select(Booking).where(Booking.office == office_id, Booking.date == day,
                                                                  Booking.status.in_(HELD))
                                            .order_by(Booking.id).with_for_update()) if b.id not in seen]
        stored = s.get(DayOverride, (office_id, day))
        if decision.override is None:
            if stored is not None:
                s.delete(stored)
        else:
            values = dict(decision.override.as_dict(), updated_at=now, updated_by=actor)
            if stored is None:
                s.add(DayOverride(office=office_id, date=day, **values))
            else:
                for k, v in values.items():
                    setattr(stored, k, v)
        note = (decision.override.note if decision.override else None) or "The office is closed that day."
        for booking in doomed if decision.cancel_existing else []:
            before = booking_json(booking, office)
            held = booking.status == "active"  # a ballot request holds no place
            set_status(booking, "cancelled", now)
            booking.cancelled_at, booking.cancelled_by = now, actor
            counts = change_counts(counter, rules.CounterChange(-1, -1 if booking.parking else 0) if held
                                   else rules.CounterChange(0, 0))
            uow.emit(BOOKING_CANCELLED, actor=actor, entity="booking", entity_id=booking.id, office=office_id,
                     before=before, after=booking_json(booking, office),
                     availability=availability(office_id, day, counts), office_timezone=office.timezone, note=note,
                     sequence=booking.sequence)
        if decision.cancel_existing:  # SPEC §15: the day's waitlist goes too, each holder told
            _end_waiting(uow, office, day, "cancelled", actor, now, note=note)
        counts = change_counts(counter, rules.CounterChange(0, 0))  # a new version for the override
        s.flush()
        cancelled = len(doomed) if decision.cancel_existing else 0
        if decision.override != current or cancelled:
            uow.emit(DAY_CHANGED, actor=actor, entity="office_day", entity_id=f"{office_id}/{day.isoformat()}",
                     office=office_id, before=current.as_dict() if current else None,
                     after=decision.override.as_dict() if decision.override else None,
                     override=decision.override.as_dict() if decision.override else None,
                     availability=availability(office_id, day, counts), cancelled=cancelled)
        promote_waiting(uow, row, {day: counter}, rules.Settings.of(config), now)  # a raised or reopened day
        counts = rules.Counts(counter.booked, counter.booked_parking, counter.version)
        uow.commit()
    effective = rules.effective_day(office, decision.override)
    return {"office": office_id, "date": day.isoformat(), "quota": effective.quota,
            "parking_quota": effective.parking_quota, "closed": effective.closed, "note": effective.note,
            "booked": counts.booked, "booked_parking": counts.booked_parking,
            "overridden": decision.override is not None, "cancelled": cancelled}


def purge_expired(db: Db, config: AppConfig, now: datetime) -> dict:
    """Retention (SPEC §4): bookings (and their counters) older than data_retention_days, and
    idempotency keys older than 24 hours, are deleted. Returns how many rows went.

    "Older" counts in each office's zone: a booking leaves on the day it leaves the visible range
    (today − retention) of its office, not by the UTC date. An office missing from the read model
    gets the latest zone's date (UTC−12), so nothing still visible anywhere is deleted."""
    retention = timedelta(days=config.data_retention_days)
    with db.uow() as uow:
        s = uow.session
        zones = dict(s.execute(select(Office.id, Office.timezone)).all())
        cutoffs = {office: rules.office_today(now, zone) - retention for office, zone in zones.items()}
        latest = (now - timedelta(hours=12)).date() - retention
        bookings = 0
        for office, cutoff in cutoffs.items():
            bookings += delete_rows(s, Booking, Booking.office == office, Booking.date < cutoff)
            delete_rows(s, DayCount, DayCount.office == office, DayCount.date < cutoff)
        bookings += delete_rows(s, Booking, Booking.office.not_in(list(cutoffs)), Booking.date < latest)
        delete_rows(s, DayCount, DayCount.office.not_in(list(cutoffs)), DayCount.date < latest)
        keys = delete_rows(s, IdempotencyKey, IdempotencyKey.created_at <= now - rules.IDEMPOTENCY_TTL)
        uow.commit()
    return {"bookings": bookings, "idempotency_keys": keys}


# ------------------------------------------------------------------------------ read models


def upsert_office(db: Db, office: dict, version: int, changed_at: datetime | None = None) -> None:
    """Copy an office into the read model. `deadline_since` becomes `changed_at` (when the change
    happened: the event's `at`; the sync's own time otherwise) whenever the check-in deadline
    changes, so the release job applies a new deadline only to deadlines after it (SPEC §11: a new
    deadline never releases past days). A copy older than the stored one (a lower `version`, the office's revision: an
    event processed late by another replica, or a sync that read the office before a change) is
    ignored."""
    values = {k: office[k] for k in ("id", "name", "quota", "parking_quota", "timezone", "retired")}
    values["check_in_deadline"] = office.get("check_in_deadline")
    values["allocation"] = office.get("allocation") or "first_come"
    values["ballot_draw_days_before"] = int(office.get("ballot_draw_days_before") or 7)
    values["ballot_draw_time"] = office.get("ballot_draw_time") or "12:00"
    values["version"] = version
    since = changed_at or datetime.now(tz=ZoneInfo("UTC"))
    with db.uow() as uow:
        stmt = insert(Office).values(**values, deadline_since=since)
        uow.session.execute(stmt.on_conflict_do_update(
            index_elements=["id"], set_={**{k: v for k, v in values.items() if k != "id"},
                                         "deadline_since": case(
                                             (Office.check_in_deadline.is_distinct_from(
                                                 stmt.excluded.check_in_deadline), stmt.excluded.deadline_since),
                                             else_=Office.deadline_since)},
            where=Office.version <= stmt.excluded.version))
        uow.commit()


def upsert_user_settings(db: Db, email: str, after: dict | None) -> None:
    email = normalize_email(email)
    with db.uow() as uow:
        if after is None:  # erased
            delete_rows(uow.session, UserSettings, UserSettings.email == email)
        else:
            values = {"email": email, "quota": after.get("quota"),
                      "auto_approved": bool(after.get("auto_approved"))}
            uow.session.execute(insert(UserSettings).values(**values).on_conflict_do_update(
                index_elements=["email"], set_={"quota": values["quota"], "auto_approved": values["auto_approved"]}))
        uow.commit()


# ------------------------------------------------------------------------------ check-in and release (SPEC §11)

RELEASE_BATCH = 200
SYSTEM_ACTOR = "system"
WAITLIST_ACTOR = "waitlist"  # created_by of a booking the waitlist made (SPEC §12)


def release_due(db: Db, now: datetime) -> int:
    """The release job: every active booking with no check-in whose office's deadline has come
    (`rules.release_due_days`: today's once passed, earlier days missed while the system was down)
    is released, in batches of one transaction each: the rows are locked `FOR UPDATE SKIP LOCKED`
    and re-checked under the lock (still active, still not checked in), so replicas running the
    job at once, a cancellation, a check-in or an "I'm not coming" never release a booking twice;
    the counters and the events (outbox) commit with the status. Only bookings made before their
    day's deadline are due (a booking made after it is not a no-show). Returns how many it
    released."""
    with db.uow() as uow:
        offices = [(o.id, o.timezone, o.check_in_deadline, o.deadline_since) for o in uow.session.scalars(
            select(Office).where(Office.check_in_deadline.is_not(None)))]
    released = 0
    for office_id, timezone, deadline, since in offices:
        for day in rules.release_due_days(now, timezone, deadline, since):
            moment = rules.deadline_at(day, timezone, deadline)
            while moment is not None:
                count = _release_batch(db, office_id, day, moment, now)
                released += count
                if count < RELEASE_BATCH:
                    break
    return released


def _release_batch(db: Db, office_id: str, day: date, deadline: datetime, now: datetime) -> int:
    with db.uow() as uow:
        s = uow.session
        office = s.get(Office, office_id)
        rows = s.scalars(select(Booking).where(
            Booking.office == office_id, Booking.date == day, Booking.status == "active",
            Booking.checked_in_at.is_(None), Booking.created_at < deadline,
        ).order_by(Booking.id).limit(RELEASE_BATCH).with_for_update(skip_locked=True)).all()
        if not rows:
            return 0
        counter = lock_day(s, office_id, day)  # after the booking rows, as a cancellation locks
        for booking in rows:
            before = booking_json(booking, office)
            set_status(booking, "released", now)
            booking.released_at, booking.released_by = now, SYSTEM_ACTOR
            counts = change_counts(counter, rules.CounterChange(-1, -1 if booking.parking else 0))
            uow.emit(BOOKING_RELEASED, actor=SYSTEM_ACTOR, entity="booking", entity_id=booking.id, office=office_id,
                     before=before, after=booking_json(booking, office),
                     availability=availability(office_id, day, counts), office_timezone=office.timezone,
                     automatic=True, check_in_deadline=office.check_in_deadline, sequence=booking.sequence)
        s.flush()
        uow.commit()
        return len(rows)


def release_booking(db: Db, config: AppConfig, booking_id: str, caller: dict, now: datetime) -> dict:
    """"I'm not coming" (SPEC §11, `rules.decide_release`): the booking is released and its place
    freed at once (to the day's waitlist, SPEC §12). An already released booking answers as it is
    (nothing changes)."""
    who = rules.Caller.of(caller)
    with db.uow() as uow:
        s = uow.session
        row = s.execute(select(Booking, Office).join(Office, Office.id == Booking.office)
                        .where(Booking.id == booking_id).with_for_update(of=Booking)).first()
        change = rules.decide_release(_stored(row[0], row[1]) if row else None, who, now)
        assert row is not None  # decide_release refused an unknown booking
        booking, office = row
        if change is None:
            return booking_json(booking, office)
        before = booking_json(booking, office)
        set_status(booking, "released", now)
        booking.released_at, booking.released_by = now, who.email
        counter = lock_day(s, booking.office, booking.date)
        counts = change_counts(counter, change)
        s.flush()
        result = booking_json(booking, office)
        uow.emit(BOOKING_RELEASED, actor=who.email, entity="booking", entity_id=booking.id, office=booking.office,
                 before=before, after=result, availability=availability(booking.office, booking.date, counts),
                 office_timezone=office.timezone, automatic=False, check_in_deadline=office.check_in_deadline,
                 sequence=booking.sequence)
        promote_waiting(uow, office, {booking.date: counter}, rules.Settings.of(config), now)
        uow.commit()
        return result


def check_in(db: Db, user: str, office_id: str, actor: str, now: datetime) -> dict:
    """A door check-in (SPEC §11): the user's active booking today (office time) at that office is
    checked in; a second check-in answers the first time. None (or only a cancelled or released
    one): NoBookingToday."""
    user = normalize_email(user)
    with db.uow() as uow:
        s = uow.session
        office = s.get(Office, office_id)
        if office is None:
            raise NoBookingToday()
        today = rules.office_today(now, office.timezone)
        booking = s.scalars(select(Booking).where(Booking.user == user, Booking.office == office_id,
                                                  Booking.date == today, Booking.status == "active")
                            .with_for_update()).first()
        first = rules.door_check_in(_stored(booking, office) if booking else None) and booking.checked_in_at is None
        if first:
            before = booking_json(booking, office)
            booking.checked_in_at = now
            uow.emit(BOOKING_CHECKED_IN, actor=normalize_email(actor), entity="booking", entity_id=booking.id,
                     office=office_id, before=before, after=booking_json(booking, office))
        result = booking_json(booking, office)
        uow.commit()
    return {"booking": result, "first_check_in": first}


# ------------------------------------------------------------------------------ waitlist (SPEC §12)
#
# Lock order, as everywhere in booking: booking rows, then office-day counter rows, then waitlist
# rows, then user-week advisory locks. Every change to a day's queue happens under that day's
# counter lock, so a freed place and the promotion it causes are one transaction: the place goes
# to exactly one entry, and capacity is never exceeded.


def waitlist_json(entry: WaitlistEntry, office: Office | rules.Office, position: int | None) -> dict:
    """SPEC §12 waitlist entry; `status` and `booking_id` (the promotion's booking) added."""
    return {"id": entry.id, "user": entry.user, "office": {"id": office.id, "name": office.name},
            "date": entry.date.isoformat(), "parking": entry.parking, "position": position,
            "created_at": rules.iso_utc(entry.created_at), "status": entry.status, "booking_id": entry.booking_id}


def _as_rules_office(office: Office | rules.Office) -> rules.Office:
    return office if isinstance(office, rules.Office) else _office(office)


def _waiting(s, office_id: str, day: date) -> list[WaitlistEntry]:
    """The office-day's queue, in order."""
    return list(s.scalars(select(WaitlistEntry).where(WaitlistEntry.office == office_id, WaitlistEntry.date == day,
                                                      WaitlistEntry.status == "waiting")
                          .order_by(WaitlistEntry.seq)))


def _queue(entries: list[WaitlistEntry]) -> list[dict]:
    """The waiting entries' positions (1 = next), for the live updates of the gateways."""
    return [{"id": e.id, "user": e.user, "position": i} for i, e in
            enumerate((e for e in entries if e.status == "waiting"), start=1)]


def join_waitlist(db: Db, config: AppConfig, request: dict, caller: str, now: datetime) -> dict:
    """Queue for a full (or closed) office-day (`rules.decide_join`), under the same locks as a
    booking decision: a join and a freed place are serialised, so nobody queues for a day that
    has a place. Returns the entry with its position."""
    caller = normalize_email(caller)
    settings = rules.Settings.of(config)
    with db.uow() as uow:
        s = uow.session
        wanted = rules.Request.of(request)
        snapshot = _load_snapshot(s, wanted, settings, now)
        office = snapshot.office
        assert office is not None
        already = s.scalars(select(WaitlistEntry.id).where(
            WaitlistEntry.user == wanted.user, WaitlistEntry.office == office.id, WaitlistEntry.date == wanted.day,
            WaitlistEntry.status == "waiting")).first() is not None
        rules.decide_join(wanted, snapshot, settings, now, already)
        required = rules.reason_required(settings, snapshot)
        entry = WaitlistEntry(id=uuid.uuid4().hex, user=wanted.user, office=office.id, date=wanted.day,
                              parking=wanted.parking, reason=(wanted.reason or "").strip() if required else None,
                              status="waiting", created_at=now, created_by=caller)
        s.add(entry)
        s.flush()
        queue = _waiting(s, office.id, wanted.day)
        result = waitlist_json(entry, office, 1 + [e.id for e in queue].index(entry.id))
        uow.emit(WAITLIST_JOINED, actor=caller, entity="waitlist_entry", entity_id=entry.id, office=office.id,
                 after=result, date=wanted.day.isoformat(), queue=_queue(queue), office_timezone=office.timezone)
        uow.commit()
    return result


def list_waitlist(db: Db, now: datetime, *, user: str | None = None, offices: list[str] | None = None,
                  office: str | None = None, day: str | None = None) -> list[dict]:
    """Waiting entries with their current position, by date, office and position. `offices`
    limits to those offices (None: all)."""
    ranked = select(WaitlistEntry, func.row_number().over(
        partition_by=(WaitlistEntry.office, WaitlistEntry.date), order_by=WaitlistEntry.seq).label("position")
    ).where(WaitlistEntry.status == "waiting").subquery()
    entry = aliased(WaitlistEntry, ranked)
    query = (select(entry, ranked.c.position, Office).join(Office, Office.id == entry.office)
             .order_by(entry.date, entry.office, ranked.c.position))
    if user:
        query = query.where(entry.user == normalize_email(user))
    if offices is not None:
        query = query.where(entry.office.in_(list(offices)))
    if office:
        query = query.where(entry.office == office)
    if day:
        query = query.where(entry.date == rules.parse_day(day))
    with db.uow() as uow:
        return [waitlist_json(e, o, position) for e, position, o in uow.session.execute(query)]


def leave_waitlist(db: Db, entry_id: str, caller: dict, now: datetime) -> dict:
    """Leave the queue (owner, or admins of the office). Unknown or no longer waiting: 404."""
    who = rules.Caller.of(caller)
    with db.uow() as uow:
        s = uow.session
        found = s.execute(select(WaitlistEntry.office, WaitlistEntry.date, WaitlistEntry.user)
                          .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == "waiting")).first()
        if found is None:
            raise WaitlistEntryNotFound()
        office_id, day, user = found
        if user != who.email and not (who.system_admin or office_id in who.offices):
            raise BookingForbidden()
        lock_day(s, office_id, day)  # the queue changes under the day's lock
        entry = s.scalars(select(WaitlistEntry).where(WaitlistEntry.id == entry_id, WaitlistEntry.status == "waiting")
                          .with_for_update()).first()
        if entry is None:  # promoted, expired or left meanwhile
            raise WaitlistEntryNotFound()
        office = s.get(Office, office_id)
        before = waitlist_json(entry, office, None)
        entry.status, entry.ended_at, entry.reason = "left", now, None
        s.flush()
        queue = _waiting(s, office_id, day)
        uow.emit(WAITLIST_LEFT, actor=who.email, entity="waitlist_entry", entity_id=entry.id, office=office_id,
                 before=before, after=waitlist_json(entry, office, None), date=day.isoformat(), queue=_queue(queue),
                 office_timezone=office.timezone)
        uow.commit()
        return waitlist_json(entry, office, None)


def _end_waiting(uow, office: Office | rules.Office, day: date, status: str, actor: str, now: datetime,
                 note: str | None = None, user: str | None = None) -> int:
    """End the day's waiting entries (of `user` only, when given) with `status` (expired,
    cancelled), one event each. The caller holds the day's counter lock."""
    s = uow.session
    query = select(WaitlistEntry).where(WaitlistEntry.office == office.id, WaitlistEntry.date == day,
                                        WaitlistEntry.status == "waiting")
    if user is not None:
        query = query.where(WaitlistEntry.user == user)
    ended = list(s.scalars(query.order_by(WaitlistEntry.seq).with_for_update()))
    if not ended:
        return 0
    befores = {e.id: waitlist_json(e, office, None) for e in ended}
    for entry in ended:
        entry.status, entry.ended_at, entry.reason = status, now, None
    s.flush()
    queue = _queue(_waiting(s, office.id, day))
    spec = WAITLIST_EXPIRED if status == "expired" else WAITLIST_CANCELLED
    for entry in ended:
        uow.emit(spec, actor=actor, entity="waitlist_entry", entity_id=entry.id, office=office.id,
                 before=befores[entry.id], after=waitlist_json(entry, office, None), date=day.isoformat(),
                 queue=queue, office_timezone=office.timezone, note=note)
    return len(ended)


def promote_waiting(uow, office: Office | rules.Office, counters: dict[date, DayCount], settings: rules.Settings,
                    now: datetime) -> int:
    """Give the free places of these office-days (their counter rows locked by the caller) to
    their waitlists (`rules.promote`): each promoted entry becomes an active booking made by
    "waitlist", in this transaction, with its events (booking_created for the confirmation,
    availability and audit; waitlist_promoted for the live update). Returns how many."""
    s = uow.session
    if not counters:
        return 0
    entries = list(s.scalars(select(WaitlistEntry).where(
        WaitlistEntry.office == office.id, WaitlistEntry.date.in_(list(counters)), WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.seq).with_for_update()))
    if not entries:
        return 0
    ro = _as_rules_office(office)
    _lock_user_weeks(s, {(e.user, e.date) for e in entries})
    promoted = 0
    for day in sorted({e.date for e in entries}):
        queue = [e for e in entries if e.date == day]
        users = sorted({e.user for e in queue})
        monday, sunday = rules.week_of(day)
        held = s.execute(select(Booking.user, Booking.office, Booking.date).where(
            Booking.user.in_(users), Booking.status.in_(HELD), Booking.date >= monday, Booking.date <= sunday)).all()
        quotas = dict(s.execute(select(UserSettings.email, UserSettings.quota).where(UserSettings.email.in_(users))).all())
        waiting = [rules.Waiting(e.id, e.user, e.parking,
                                 held=any(u == e.user and o == ro.id and d == day for u, o, d in held),
                                 week_held=sum(1 for u, _, _ in held if u == e.user),
                                 quota=rules.weekly_quota(quotas.get(e.user), settings)) for e in queue]
        counter = counters[day]
        day_override = _override(s.get(DayOverride, (ro.id, day), populate_existing=True))
        chosen = rules.promote(waiting, ro, rules.effective_day(ro, day_override),
                               rules.Counts(counter.booked, counter.booked_parking, counter.version),
                               rules.waitlist_expires_at(day, ro.timezone, ro.check_in_deadline), now)
        if not chosen:
            continue
        by_id = {e.id: e for e in queue}
        made = []
        for waiting_entry, _ in chosen:
            entry = by_id[waiting_entry.id]
            booking = Booking(id=uuid.uuid4().hex, user=entry.user, office=ro.id, date=day, parking=entry.parking,
                              status="active", created_at=now, created_by=WAITLIST_ACTOR, sequence=0)
            s.add(booking)
            counts = change_counts(counter, rules.CounterChange(1, 1 if entry.parking else 0))
            before = waitlist_json(entry, ro, None)
            reason = entry.reason
            entry.status, entry.ended_at, entry.booking_id, entry.reason = "promoted", now, booking.id, None
            made.append((entry, booking, counts, before, reason))
        s.flush()
        queue_after = _queue(queue)
        for entry, booking, counts, before, reason in made:
            result = booking_json(booking, ro)
            uow.emit(BOOKING_CREATED, actor=SYSTEM_ACTOR, entity="booking", entity_id=booking.id, office=ro.id,
                     after=result, availability=availability(ro.id, day, counts), office_timezone=ro.timezone,
                     reason=reason, reason_required=reason is not None, sequence=0)
            uow.emit(WAITLIST_PROMOTED, actor=SYSTEM_ACTOR, entity="waitlist_entry", entity_id=entry.id,
                     office=ro.id, before=before, after=waitlist_json(entry, ro, None), date=day.isoformat(),
                     queue=queue_after, office_timezone=ro.timezone, booking=result)
        promoted += len(made)
    return promoted


def promote_where(db: Db, config: AppConfig, now: datetime, *, office: str | None = None,
                  user: str | None = None) -> int:
    """Promote the waitlists of the days an office's (or a user's) waiting entries are on: after a
    capacity change (a raised quota, an un-retired office) or a user's raised weekly quota. The
    days' counters are locked in (office, date) order, as an erasure does."""
    query = select(WaitlistEntry.office, WaitlistEntry.date).where(WaitlistEntry.status == "waiting")
    if office is not None:
        query = query.where(WaitlistEntry.office == office)
    if user is not None:
        query = query.where(WaitlistEntry.user == normalize_email(user))
    with db.uow() as uow:
        s = uow.session
        days = sorted(set(s.execute(query.distinct()).all()))
        if not days:
            return 0
        counters: dict[str, dict[date, DayCount]] = {}
        for office_id, day in days:
            counters.setdefault(office_id, {})[day] = lock_day(s, office_id, day)
        promoted = 0
        for office_id, locked in counters.items():
            row = s.get(Office, office_id)
            if row is not None:
                promoted += promote_waiting(uow, row, locked, rules.Settings.of(config), now)
        uow.commit()
        return promoted


def expire_waitlist(db: Db, now: datetime) -> int:
    """The expiry job: the entries of every office-day whose waitlist has closed (the check-in
    deadline, or the start of the day) are expired, each day under its counter lock, one event
    per entry (the user is emailed). Exactly once: an entry is ended only while still waiting."""
    with db.uow() as uow:
        days = uow.session.execute(
            select(WaitlistEntry.office, WaitlistEntry.date, Office.timezone, Office.check_in_deadline)
            .join(Office, Office.id == WaitlistEntry.office)
            .where(WaitlistEntry.status == "waiting", WaitlistEntry.date <= (now + timedelta(days=1)).date())
            .distinct()).all()
    expired = 0
    for office_id, day, timezone, deadline in sorted(days):
        if now < rules.waitlist_expires_at(day, timezone, deadline):
            continue
        with db.uow() as uow:
            lock_day(uow.session, office_id, day)
            expired += _end_waiting(uow, uow.session.get(Office, office_id), day, "expired", SYSTEM_ACTOR, now)
            uow.commit()
    return expired


# ------------------------------------------------------------------------------ ballot (SPEC §13)


def draw_due_days(db: Db, config: AppConfig, now: datetime) -> int:
    """The draw job: every office-day whose draw is due and has not run is drawn (`draw_day`):
    the days of ballot offices' bookable windows once their draw time has come (late after
    downtime), and any day that still has requests at an office no longer on ballot. Returns how
    many days were drawn."""
    with db.uow() as uow:
        s = uow.session
        ballot = [_office(o) for o in s.scalars(select(Office).where(Office.allocation == "ballot",
                                                                     Office.retired.is_(False)))]
        pending = set(s.execute(select(Booking.office, Booking.date).where(Booking.status == "requested")
                                .distinct()).all())
        wanted = set()
        for office in ballot:
            for day in rules.bookable_days(now, office.timezone, config.advance_booking_days):
                if rules.draw_due(office, day, now):
                    wanted.add((office.id, day))
        ballot_ids = {o.id for o in ballot}
        first_come_pending = {(o, d) for o, d in pending if o not in ballot_ids}
        wanted |= first_come_pending
        wanted |= {(o, d) for o, d in pending if o in ballot_ids and rules.draw_due(
            next(b for b in ballot if b.id == o), d, now)}
        if not wanted:
            return 0
        drawn = set(s.execute(select(BallotDraw.office, BallotDraw.date).where(
            BallotDraw.office.in_(sorted({o for o, _ in wanted})), BallotDraw.date >= min(d for _, d in wanted)
        )).all())
    count = 0
    for office_id, day in sorted(wanted - drawn):
        if draw_day(db, config, office_id, day, now) is not None:
            count += 1
    return count


def draw_day(db: Db, config: AppConfig, office_id: str, day: date, now: datetime,
             seed: str | None = None) -> dict | None:
    """Draw one office-day (SPEC §13, `rules.draw`), exactly once: under the day's counter lock,
    a day with a `ballot_draws` row is never drawn again (replicas racing, a restart). Winners
    become active bookings; the others are `waitlisted` and queue in draw order. One
    `ballot_drawn` event carries the seed, the ordered request ids, every request's inputs and
    the outcome (audited: `tools/replay_ballot.py` recomputes the draw from it) and the results
    for the mails. Returns the audit record's `after`, or None when there was nothing to draw."""
    settings = rules.Settings.of(config)
    with db.uow() as uow:
        s = uow.session
        row = s.get(Office, office_id)
        if row is None:
            return None
        office = _office(row)
        counter = lock_day(s, office_id, day)
        if s.get(BallotDraw, (office_id, day)) is not None:
            return None
        if office.allocation == "ballot" and not rules.draw_due(office, day, now):
            return None
        requests = list(s.scalars(select(Booking).where(Booking.office == office_id, Booking.date == day,
                                                        Booking.status == "requested")
                                  .order_by(Booking.id).with_for_update()))
        seed = seed or secrets.token_hex(16)
        s.add(BallotDraw(office=office_id, date=day, seed=seed, drawn_at=now, requests=len(requests), winners=0))
        if not requests:
            uow.commit()
            return None
        users = sorted({b.user for b in requests})
        _lock_user_weeks(s, {(u, day) for u in users})
        moment = rules.draw_at(office, day) or now
        first, last = rules.history_window(min(moment, now), office.timezone)
        office_days = dict(s.execute(
            select(Booking.user, func.count(func.distinct(Booking.date))).where(
                Booking.user.in_(users), Booking.status == "active", Booking.date >= first, Booking.date <= last)
            .group_by(Booking.user)).all())
        monday, sunday = rules.week_of(day)
        week_held = dict(s.execute(
            select(Booking.user, func.count()).where(Booking.user.in_(users), Booking.status.in_(HELD),
                                                     Booking.date >= monday, Booking.date <= sunday)
            .group_by(Booking.user)).all())
        quotas = dict(s.execute(select(UserSettings.email, UserSettings.quota).where(UserSettings.email.in_(users))).all())
        entries = [rules.BallotEntry(b.id, b.parking, int(office_days.get(b.user, 0)),
                                     eligible=week_held.get(b.user, 0) <= rules.weekly_quota(quotas.get(b.user),
                                                                                            settings))
                   for b in requests]
        day_override = _override(s.get(DayOverride, (office_id, day), populate_existing=True))
        effective = rules.effective_day(office, day_override)
        start = rules.Counts(counter.booked, counter.booked_parking, counter.version)
        result = rules.draw(entries, seed, effective, start)
        by_id = {b.id: b for b in requests}
        winners = set(result.winners)
        before = {b.id: booking_json(b, office) for b in requests}
        waitlisted: dict[str, WaitlistEntry] = {}
        for entry in result.order:
            booking = by_id[entry.id]
            if entry.id in winners:
                set_status(booking, "active", now)
                change_counts(counter, rules.CounterChange(1, 1 if booking.parking else 0))
            else:
                set_status(booking, "waitlisted", now)
                queued = WaitlistEntry(id=uuid.uuid4().hex, user=booking.user, office=office_id, date=day,
                                       parking=booking.parking, status="waiting", created_at=now,
                                       created_by=booking.created_by, request_id=booking.id)
                s.add(queued)
                s.flush()  # one at a time: the queue's order (seq) is the draw order
                waitlisted[entry.id] = queued
        if not winners:
            change_counts(counter, rules.CounterChange(0, 0))  # a new version: the day's requests changed
        s.get(BallotDraw, (office_id, day)).winners = len(winners)
        s.flush()
        queue = _waiting(s, office_id, day)
        positions = {e.id: i for i, e in enumerate(queue, start=1)}
        counts = rules.Counts(counter.booked, counter.booked_parking, counter.version)
        record = {
            "office": office_id, "date": day.isoformat(), "seed": seed,
            "places": effective.quota - start.booked if not effective.closed else 0,
            "parking_places": effective.parking_quota - start.booked_parking if not effective.closed else 0,
            "requests": {e.id: {"office_days": e.office_days, "parking": e.parking, "eligible": e.eligible}
                         for e in entries},
            "order": [e.id for e in result.order],
            "outcome": result.outcome(),
        }
        results = []
        for entry in result.order:
            place = waitlisted.get(entry.id)
            results.append({"before": before[entry.id], "booking": booking_json(by_id[entry.id], office),
                            "sequence": by_id[entry.id].sequence,
                            "outcome": "won" if entry.id in winners else "waitlisted",
                            "waitlist_id": place.id if place else None,
                            "position": positions.get(place.id) if place else None})
        uow.emit(BALLOT_DRAWN, actor=SYSTEM_ACTOR, entity="office_day", entity_id=f"{office_id}/{day.isoformat()}",
                 office=office_id, after=record, availability=availability(office_id, day, counts),
                 office_timezone=office.timezone, results=results, queue=_queue(queue))
        uow.commit()
        return record


# ------------------------------------------------------------------------------ regular office days (SPEC §14)

RECURRING_ACTOR = "recurring"  # created_by and actor of the bookings a pattern makes
RESULTS_DAYS = 7  # last_results: the occurrences from a week ago on


def pattern_json(p: RecurringPattern, results: list[dict]) -> dict:
    """SPEC §14 pattern: {id, user, office, weekdays, parking, until, created_at, last_results}."""
    return {"id": p.id, "user": p.user, "office": p.office, "weekdays": [int(d) for d in p.weekdays.split(",")],
            "parking": p.parking, "until": p.until.isoformat() if p.until else None,
            "created_at": rules.iso_utc(p.created_at), "last_results": results}


def _pattern_rule(p: RecurringPattern) -> rules.Pattern:
    return rules.Pattern(p.office, tuple(int(d) for d in p.weekdays.split(",")), p.parking, p.until)


def _results(s, pattern_ids: list[str], since: date) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {pid: [] for pid in pattern_ids}
    for o in s.scalars(select(Occurrence).where(Occurrence.pattern_id.in_(pattern_ids), Occurrence.date >= since)
                       .order_by(Occurrence.date)):
        found[o.pattern_id].append({"date": o.date.isoformat(), "status": o.status, "message": o.message,
                                    "code": o.code, "booking_id": o.booking_id})
    return found


def create_pattern(db: Db, config: AppConfig, fields: dict, user: str, caller: str, now: datetime) -> dict:
    """Store the pattern (`rules.decide_pattern`) and book its occurrences already inside the
    window (each exactly once, as the job would). Returns the pattern with their results."""
    user, caller = normalize_email(user), normalize_email(caller)
    with db.uow() as uow:
        s = uow.session
        row = s.get(Office, str(fields.get("office")))
        pattern = rules.decide_pattern(fields, _office(row) if row else None, now)
        reason = fields.get("reason")
        stored = RecurringPattern(id=uuid.uuid4().hex, user=user, office=pattern.office,
                                  weekdays=",".join(map(str, pattern.weekdays)), parking=pattern.parking,
                                  until=pattern.until, reason=reason.strip() if isinstance(reason, str) else None,
                                  created_at=now, created_by=caller)
        s.add(stored)
        s.flush()
        uow.emit(RECURRING_CREATED, actor=caller, entity="recurring_pattern", entity_id=stored.id,
                 office=pattern.office, after=pattern_json(stored, []))
        uow.commit()
        pattern_id = stored.id
    book_occurrences(db, config, now, pattern_ids=[pattern_id])
    return get_pattern(db, pattern_id, now)


def get_pattern(db: Db, pattern_id: str, now: datetime) -> dict:
    with db.uow() as uow:
        p = uow.session.get(RecurringPattern, pattern_id)
        if p is None or p.deleted_at is not None:
            raise PatternNotFound()
        since = now.date() - timedelta(days=RESULTS_DAYS)
        return pattern_json(p, _results(uow.session, [p.id], since)[p.id])


def list_patterns(db: Db, now: datetime, user: str | None = None, offices: list[str] | None = None) -> list[dict]:
    query = select(RecurringPattern).where(RecurringPattern.deleted_at.is_(None)).order_by(RecurringPattern.created_at)
    if user:
        query = query.where(RecurringPattern.user == normalize_email(user))
    if offices is not None:
        query = query.where(RecurringPattern.office.in_(list(offices)))
    with db.uow() as uow:
        patterns = list(uow.session.scalars(query))
        results = _results(uow.session, [p.id for p in patterns], now.date() - timedelta(days=RESULTS_DAYS))
        return [pattern_json(p, results[p.id]) for p in patterns]


def delete_pattern(db: Db, pattern_id: str, caller: dict, now: datetime) -> None:
    """Stop a pattern (owner, or admins of its office); the bookings it made stay (SPEC §14)."""
    who = rules.Caller.of(caller)
    with db.uow() as uow:
        p = uow.session.scalars(select(RecurringPattern).where(RecurringPattern.id == pattern_id)
                                .with_for_update()).first()
        if p is None or p.deleted_at is not None:
            raise PatternNotFound()
        if p.user != who.email and not (who.system_admin or p.office in who.offices):
            raise BookingForbidden()
        before = pattern_json(p, [])
        p.deleted_at = now
        uow.emit(RECURRING_DELETED, actor=who.email, entity="recurring_pattern", entity_id=p.id, office=p.office,
                 before=before)
        uow.commit()


def book_occurrences(db: Db, config: AppConfig, now: datetime, pattern_ids: list[str] | None = None) -> int:
    """The recurring job (and a new pattern): every occurrence of the active patterns that is in
    its office's bookable window and not decided yet is decided now, each in its own transaction:
    the `occurrences` row is inserted first (a replica deciding the same date at the same moment
    waits on it, then finds it taken), then the booking decision of SPEC §4 as a savepoint; a
    refusal is recorded with its message and never retried. Returns how many were decided."""
    with db.uow() as uow:
        s = uow.session
        query = (select(RecurringPattern, Office).join(Office, Office.id == RecurringPattern.office)
                 .where(RecurringPattern.deleted_at.is_(None)))
        if pattern_ids is not None:
            query = query.where(RecurringPattern.id.in_(pattern_ids))
        due: list[tuple[dict, date]] = []
        rows = list(s.execute(query))
        if not rows:
            return 0
        earliest = min(rules.office_today(now, o.timezone) for _, o in rows)
        decided = set(s.execute(select(Occurrence.pattern_id, Occurrence.date).where(
            Occurrence.pattern_id.in_([p.id for p, _ in rows]), Occurrence.date >= earliest)).all())
        for p, office in rows:
            first, last = rules.bookable_window(now, office.timezone, config.advance_booking_days)
            request = {"id": p.id, "user": p.user, "office": p.office, "parking": p.parking, "reason": p.reason,
                       "created_at": p.created_at}
            due += [(request, d) for d in rules.occurrences(_pattern_rule(p), first, last) if (p.id, d) not in decided]
    count = 0
    for pattern, day in sorted(due, key=lambda x: (x[1], x[0]["created_at"])):
        if _decide_occurrence(db, config, pattern, day, now):
            count += 1
    return count


def _decide_occurrence(db: Db, config: AppConfig, pattern: dict, day: date, now: datetime) -> bool:
    with db.uow() as uow:
        s = uow.session
        claimed = s.execute(insert(Occurrence).values(
            pattern_id=pattern["id"], date=day, user=pattern["user"], status="pending", decided_at=now)
            .on_conflict_do_nothing(index_elements=["pattern_id", "date"]).returning(Occurrence.date)).first()
        if claimed is None:  # another replica decided it
            uow.commit()
            return False
        request = {"user": pattern["user"], "office": pattern["office"], "date": day.isoformat(),
                   "parking": pattern["parking"], "reason": pattern["reason"]}
        savepoint = s.begin_nested()
        values: dict = {}
        try:
            booking, _, _ = _decide(uow, config, request, RECURRING_ACTOR, now)
        except BookingError as exc:
            savepoint.rollback()
            values = {"status": "refused", "code": exc.code, "message": exc.message}
        else:
            savepoint.commit()
            values = {"status": "requested" if booking["status"] == "requested" else "booked",
                      "booking_id": booking["id"]}
        s.execute(update(Occurrence).where(Occurrence.pattern_id == pattern["id"], Occurrence.date == day)
                  .values(**values))
        uow.commit()
        return True


def summarise_refusals(db: Db, now: datetime) -> int:
    """SPEC §14: each user's refused occurrences, emailed once a day as one summary (one
    `recurring_refused` event per user and UTC day; the refusals are marked in its transaction)."""
    with db.uow() as uow:
        users = sorted(set(uow.session.scalars(select(Occurrence.user).where(
            Occurrence.status == "refused", Occurrence.summarised_at.is_(None)))))
    sent = 0
    for user in users:
        with db.uow() as uow:
            s = uow.session
            first = s.execute(insert(RefusalSummary).values(user=user, day=now.date())
                              .on_conflict_do_nothing(index_elements=["user", "day"]).returning(RefusalSummary.day)
                              ).first()
            if first is None:  # already summarised today: tomorrow's summary
                uow.commit()
                continue
            refused = list(s.execute(
                select(Occurrence, RecurringPattern.office, Office.name)
                .join(RecurringPattern, RecurringPattern.id == Occurrence.pattern_id)
                .outerjoin(Office, Office.id == RecurringPattern.office)
                .where(Occurrence.user == user, Occurrence.status == "refused", Occurrence.summarised_at.is_(None))
                .order_by(Occurrence.date).with_for_update(of=Occurrence)))
            if not refused:
                uow.commit()
                continue
            for o, _, _ in refused:
                o.summarised_at = now
            uow.emit(RECURRING_REFUSED, actor=SYSTEM_ACTOR, entity="user", entity_id=user, after={
                "refusals": [{"date": o.date.isoformat(), "office": {"id": office, "name": name or office},
                              "message": o.message, "code": o.code} for o, office, name in refused]})
            uow.commit()
            sent += 1
    return sent


# ------------------------------------------------------------------------------ range cancel (SPEC §14)


def cancel_range(db: Db, config: AppConfig, caller: dict, date_from: str | None, date_to: str | None,
                 office: str | None, now: datetime) -> dict:
    """Cancel the caller's own bookings (and requests) in a range that they may still cancel, in one
    transaction: rows locked, then the counters of their days in order, the places promoted to
    the waitlists. Returns {cancelled, kept: [{id, message}]}."""
    who = rules.Caller.of(caller)
    first, last = rules.parse_day(date_from), rules.parse_day(date_to)
    if first is None or last is None:
        raise InvalidRange("Invalid date range: from and to are required")
    with db.uow() as uow:
        s = uow.session
        query = (select(Booking, Office).join(Office, Office.id == Booking.office)
                 .where(Booking.user == who.email, Booking.status.in_(HELD), Booking.date >= first,
                        Booking.date <= last).order_by(Booking.id).with_for_update(of=Booking))
        if office:
            query = query.where(Booking.office == office)
        rows = list(s.execute(query))
        to_cancel, kept = rules.decide_range_cancel([(b.id, _stored(b, o)) for b, o in rows], who, now, first, last)
        chosen = set(to_cancel)
        cancelling = [(b, o) for b, o in rows if b.id in chosen]
        counters: dict[tuple[str, date], DayCount] = {}
        for key in sorted({(b.office, b.date) for b, _ in cancelling if b.status == "active"}):
            counters[key] = lock_day(s, *key)
        for booking, row in sorted(cancelling, key=lambda x: (x[0].date, x[0].office)):
            before = booking_json(booking, row)
            counter = counters.get((booking.office, booking.date)) if booking.status == "active" else None
            set_status(booking, "cancelled", now)
            booking.cancelled_at, booking.cancelled_by = now, who.email
            counts = change_counts(counter, rules.CounterChange(-1, -1 if booking.parking else 0)) if counter \
                else _counts(s, booking.office, booking.date)
            uow.emit(BOOKING_CANCELLED, actor=who.email, entity="booking", entity_id=booking.id, office=booking.office,
                     before=before, after=booking_json(booking, row),
                     availability=availability(booking.office, booking.date, counts), office_timezone=row.timezone,
                     sequence=booking.sequence)
        s.flush()
        settings = rules.Settings.of(config)
        for office_id in sorted({o for o, _ in counters}):
            promote_waiting(uow, s.get(Office, office_id), {d: c for (o, d), c in counters.items() if o == office_id},
                            settings, now)
        uow.commit()
    return {"cancelled": len(cancelling), "kept": [{"id": k["id"], "message": k["message"]} for k in kept]}


# ------------------------------------------------------------------------------ calendar feed (SPEC §14)


def feed_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(db: Db, user: str, now: datetime) -> str:
    """A new secret token for the user's feed; any earlier one stops working. Only its hash is kept."""
    token = secrets.token_urlsafe(32)
    with db.uow() as uow:
        uow.session.execute(insert(CalendarFeed).values(user=normalize_email(user), token_hash=feed_hash(token),
                                                        created_at=now)
                            .on_conflict_do_update(index_elements=["user"],
                                                   set_={"token_hash": feed_hash(token), "created_at": now}))
        uow.commit()
    return token


def revoke_feed(db: Db, user: str) -> None:
    with db.uow() as uow:
        delete_rows(uow.session, CalendarFeed, CalendarFeed.user == normalize_email(user))
        uow.commit()


def feed(db: Db, config: AppConfig, token: str, now: datetime) -> str:
    """The user's calendar (RFC 5545): every booking from today − retention to the end of the
    window, one VEVENT each (`obcommon.calendar`); an unknown, rotated or revoked token is 404."""
    with db.uow() as uow:
        s = uow.session
        user = s.scalars(select(CalendarFeed.user).where(CalendarFeed.token_hash == feed_hash(token))).first()
        if user is None:
            raise FeedNotFound()
        lo, hi = rules.default_list_range(now, config.default_timezone, config.data_retention_days,
                                          config.advance_booking_days)
        rows = list(s.execute(select(Booking, Office).join(Office, Office.id == Booking.office)
                              .where(Booking.user == user, Booking.date >= lo - timedelta(days=1),
                                     Booking.date <= hi + timedelta(days=1))
                              .order_by(Booking.date, Booking.office)))
        events = [calendar.booking_event(booking_json(b, o), b.sequence or 0, config.from_address,
                                         changed_at=b.changed_at or b.created_at) for b, o in rows]
    return calendar.calendar(events, name="Office Booker")


# ------------------------------------------------------------------------------ administration: stats and erasure


def unknown_offices(db: Db, offices: list[str]) -> list[str]:
    """Those of `offices` the read model does not know (yet)."""
    wanted = [str(o) for o in offices][:1000]
    with db.uow() as uow:
        known = set(uow.session.scalars(select(Office.id).where(Office.id.in_(wanted))))
    return [o for o in wanted if o not in known]


def stats(db: Db, config: AppConfig, now: datetime, offices: list[str] | None = None,
          date_from: str | None = None, date_to: str | None = None) -> list[dict]:
    """Bookings and parking per office and day: every office x day of the range, zeros included.

    Offices: those asked for (None: all) that are active, plus retired ones that still have active
    bookings in the range (their history stays visible); in the order of `offices`, else by id.
    The range is the visible one (`rules.visible_range`); `date_from`/`date_to` narrow it and are
    clamped to it. Counts come from the capacity counters, which equal a recount of the active
    bookings."""
    start, end = rules.parse_day(date_from), rules.parse_day(date_to)
    if start and end and start > end:
        raise InvalidRange("Invalid date range: from is after to")
    with db.uow() as uow:
        s = uow.session
        query = select(Office)
        if offices is not None:
            query = query.where(Office.id.in_([str(o) for o in offices]))
        office_rows = list(s.scalars(query))
        known = {o.id: (o.timezone, o.retired) for o in office_rows}
        deadlines = {o.id: o.check_in_deadline for o in office_rows}
        visible = rules.visible_range(now, sorted({tz for tz, _ in known.values()}), config.data_retention_days,
                                config.advance_booking_days)
        days = rules.clamp_range(visible, start, end)
        if not days or not known:
            return []
        counts = {(c.office, c.date): (c.booked, c.booked_parking) for c in s.scalars(
            select(DayCount).where(DayCount.office.in_(list(known)), DayCount.date >= days[0],
                                   DayCount.date <= days[-1]))}
        outcomes: dict = {}  # (office, day) -> [(status, checked in, created_at)] (SPEC §11)
        for office_id, day, status, checked, created in s.execute(
                select(Booking.office, Booking.date, Booking.status, Booking.checked_in_at.is_not(None),
                       Booking.created_at)
                .where(Booking.office.in_(list(known)), Booking.date >= days[0], Booking.date <= days[-1],
                       Booking.status != "cancelled")):
            outcomes.setdefault((office_id, day), []).append((status, checked, created))
    order = [str(o) for o in offices if str(o) in known] if offices is not None else sorted(known)
    used = {office for (office, _), (booked, _) in counts.items() if booked > 0}
    rows = []
    for office_id in dict.fromkeys(order):
        if known[office_id][1] and office_id not in used:  # retired, no bookings in the range
            continue
        for d in days:
            booked, parking = counts.get((office_id, d), (0, 0))
            checked_in, released, rate = rules.day_outcomes(
                outcomes.get((office_id, d), []),
                rules.deadline_at(d, known[office_id][0], deadlines[office_id]), now)
            rows.append({"office": office_id, "date": d.isoformat(), "bookings": booked, "parking": parking,
                         "checked_in": checked_in, "released": released, "no_show_rate": rate})
    return rows


# ------------------------------------------------------------------------------ erasure


def erase_user_bookings(db: Db, config: AppConfig, email: str, pseudonym: str | None, actor: str | None,
                        now: datetime) -> int:
    """Delete every booking of an erased user (SPEC §4), with their settings and idempotency keys,
    in one transaction; the counters of the days their active bookings held go down by exactly
    what is deleted, so they stay equal to a recount. Returns how many bookings were deleted.

    Lock order: the user's booking rows first (as a cancellation does), then the day counters in
    (office, date) order, so erasures, cancellations and decisions cannot deadlock."""
    email = normalize_email(email)
    with db.uow() as uow:
        s = uow.session
        rows = s.scalars(select(Booking).where(Booking.user == email).order_by(Booking.id).with_for_update()).all()
        freed = rules.freed_by([(b.office, b.date, b.parking) for b in rows if b.status == "active"])
        queued = set(s.execute(select(WaitlistEntry.office, WaitlistEntry.date).where(
            WaitlistEntry.user == email, WaitlistEntry.status == "waiting")).all())
        changed = []
        counters: dict[str, dict] = {}
        for office, day in sorted(set(freed) | queued):  # every counter first, in order (then the queues)
            counter = lock_day(s, office, day)
            counters.setdefault(office, {})[day] = counter
            if (office, day) in freed:
                counts = change_counts(counter, freed[(office, day)])
                changed.append(availability(office, day, counts))
        if rows:
            delete_rows(s, Booking, Booking.id.in_([b.id for b in rows]))
        delete_rows(s, WaitlistEntry, WaitlistEntry.user == email)  # their queue places go with them
        patterns = list(s.scalars(select(RecurringPattern.id).where(RecurringPattern.user == email)))
        delete_rows(s, Occurrence, Occurrence.user == email)
        if patterns:  # their regular days stop (SPEC §14), and their calendar feed goes
            delete_rows(s, RecurringPattern, RecurringPattern.id.in_(patterns))
        delete_rows(s, RefusalSummary, RefusalSummary.user == email)
        delete_rows(s, CalendarFeed, CalendarFeed.user == email)
        if pseudonym:  # bookings and entries they made for others keep a pseudonym as their maker
            s.execute(update(Booking).where(Booking.created_by == email).values(created_by=pseudonym))
            s.execute(update(WaitlistEntry).where(WaitlistEntry.created_by == email).values(created_by=pseudonym))
            s.execute(update(RecurringPattern).where(RecurringPattern.created_by == email)
                      .values(created_by=pseudonym))
        delete_rows(s, UserSettings, UserSettings.email == email)
        delete_rows(s, IdempotencyKey,
                    (IdempotencyKey.caller == email) | (IdempotencyKey.response["booking"]["user"].astext == email))
        forget_answers_naming(s, Base, email)  # answers of earlier commands (bookings name the user)
        s.flush()
        if rows:
            uow.emit(USER_BOOKINGS_ERASED, actor=actor, entity="user", entity_id=pseudonym or "erased",
                     after={"bookings": len(rows)}, availability=changed)
        for office, locked in counters.items():  # the freed places go to the waitlists (SPEC §12)
            row = s.get(Office, office)
            freed_days = {d: c for d, c in locked.items() if (office, d) in freed}
            if row is not None and freed_days:
                promote_waiting(uow, row, freed_days, rules.Settings.of(config), now)
        uow.commit()
        return len(rows)


# ------------------------------------------------------------------------------ disabled accounts (SPEC §16)

DISABLED_ACTOR = "system"


def disable_user(db: Db, config: AppConfig, email: str, now: datetime) -> int:
    """The identity provider disabled the user: their bookings and requests not yet past are
    cancelled, their waitlist entries cancelled, their regular days stopped, in one transaction
    (rows, then the days' counters in order, then the queues; the freed places promoted).
    Returns how many bookings were cancelled."""
    email = normalize_email(email)
    with db.uow() as uow:
        s = uow.session
        first = (now - timedelta(days=1)).date()  # any zone's today is on or after UTC's yesterday
        rows = [(b, o) for b, o in s.execute(
            select(Booking, Office).join(Office, Office.id == Booking.office)
            .where(Booking.user == email, Booking.status.in_(HELD), Booking.date >= first)
            .order_by(Booking.id).with_for_update(of=Booking))
            if b.date >= rules.office_today(now, o.timezone)]
        queued = set(s.execute(select(WaitlistEntry.office, WaitlistEntry.date).where(
            WaitlistEntry.user == email, WaitlistEntry.status == "waiting")).all())
        counters: dict[tuple[str, date], DayCount] = {}
        for key in sorted({(b.office, b.date) for b, _ in rows if b.status == "active"} | queued):
            counters[key] = lock_day(s, *key)
        for booking, office in rows:
            before = booking_json(booking, office)
            held = booking.status == "active"
            set_status(booking, "cancelled", now)
            booking.cancelled_at, booking.cancelled_by = now, DISABLED_ACTOR
            counts = change_counts(counters[(booking.office, booking.date)],
                                   rules.CounterChange(-1, -1 if booking.parking else 0)) if held \
                else _counts(s, booking.office, booking.date)
            uow.emit(BOOKING_CANCELLED, actor=DISABLED_ACTOR, entity="booking", entity_id=booking.id,
                     office=booking.office, before=before, after=booking_json(booking, office),
                     availability=availability(booking.office, booking.date, counts), office_timezone=office.timezone,
                     sequence=booking.sequence)
        for office_id, day in sorted(queued):
            _end_waiting(uow, s.get(Office, office_id), day, "cancelled", DISABLED_ACTOR, now, user=email)
        for pattern in s.scalars(select(RecurringPattern).where(RecurringPattern.user == email,
                                                                RecurringPattern.deleted_at.is_(None))):
            pattern.deleted_at = now
            uow.emit(RECURRING_DELETED, actor=DISABLED_ACTOR, entity="recurring_pattern", entity_id=pattern.id,
                     office=pattern.office, before=pattern_json(pattern, []))
        s.flush()
        settings = rules.Settings.of(config)
        for office_id in sorted({o for o, _ in counters}):
            promote_waiting(uow, s.get(Office, office_id), {d: c for (o, d), c in counters.items() if o == office_id},
                            settings, now)
        uow.commit()
    return len(rows)
