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
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, select, text, true, update
from sqlalchemy.dialects.postgresql import insert

from obcommon.config import AppConfig, Env
from obcommon.db import delete_rows
from obcommon.emails import normalize_email
from obcommon.service import Db

from . import rules
from .contract import BOOKING_CANCELLED, BOOKING_CHECKED_IN, BOOKING_CREATED, BOOKING_RELEASED, DAY_CHANGED
from .exceptions import (
    REPLAYABLE,
    BookingError,
    BookingNotFound,
    DayChangeInvalid,
    IdempotencyKeyReused,
    NoBookingToday,
    OfficeNotFound,
)
from .models import Booking, DayCount, DayOverride, IdempotencyKey, Office, UserSettings


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
    }


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


def _office(row: Office) -> rules.Office:
    return rules.Office(row.id, row.name, row.quota, row.parking_quota, row.timezone, row.retired,
                        row.check_in_deadline)


def _stored(booking: Booking, office: Office) -> rules.Stored:
    return rules.Stored(booking.user, booking.office, booking.date, booking.parking, booking.status == "active",
                        office.timezone, booking.status == "released", office.check_in_deadline)


# ------------------------------------------------------------------------------ create


def office_known(db: Db, office_id: str) -> bool:
    with db.uow() as uow:
        return uow.session.get(Office, office_id) is not None


def create_booking(db: Db, config: AppConfig, request: dict, caller: str, idempotency_key: str | None,
                   now: datetime) -> tuple[dict, dict | None]:
    """Returns (booking, event). A replayed idempotent request returns (first booking, None)."""
    caller = normalize_email(caller)
    with db.uow() as uow:
        s = uow.session
        if idempotency_key:
            replay = _claim_idempotency_key(s, caller, idempotency_key,
                                            rules.request_fingerprint(request, _fingerprint_key()), now)
            if replay is not None:
                uow.commit()
                if "error" in replay:
                    raise REPLAYABLE[replay["error"]](replay["message"])
                return replay["booking"], None
            savepoint = s.begin_nested()
        try:
            booking, event = _decide(uow, config, request, caller, now)
        except BookingError as exc:
            if not idempotency_key or type(exc).__name__ not in REPLAYABLE:
                raise
            savepoint.rollback()
            _store_response(s, caller, idempotency_key, {"error": type(exc).__name__, "message": exc.message})
            uow.commit()
            raise
        if idempotency_key:
            savepoint.commit()
            _store_response(s, caller, idempotency_key, {"booking": booking})
        uow.commit()
        return booking, event


@functools.cache
def _fingerprint_key() -> bytes:
    return Env.from_environ().derive_key("idempotency-fingerprints")


def _claim_idempotency_key(session, caller: str, key: str, fingerprint: str, now: datetime) -> dict | None:
    """Insert the key (blocking while a concurrent first request with it is in flight), or return
    the stored first response. The same key with a different request is a conflict. A key is
    kept for IDEMPOTENCY_TTL: an older one (not purged yet) counts as never used."""
    inserted = session.execute(
        insert(IdempotencyKey).values(caller=caller, key=key, fingerprint=fingerprint, created_at=now)
        .on_conflict_do_nothing(index_elements=["caller", "key"]).returning(IdempotencyKey.key)
    ).first()
    if inserted:
        return None
    row = session.scalars(select(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
                          .with_for_update()).one()
    if row.created_at <= now - rules.IDEMPOTENCY_TTL:
        row.fingerprint, row.response, row.created_at = fingerprint, None, now
        session.flush()
        return None
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if row.response is None:  # the first attempt failed without a stored answer: treat as new
        return None
    return row.response


def _store_response(session, caller: str, key: str, response: dict) -> None:
    session.execute(update(IdempotencyKey).where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
                    .values(response=response))


def _decide(uow, config: AppConfig, request: dict, caller: str, now: datetime) -> tuple[dict, dict]:
    """Load the snapshot under the locks, let `rules.decide` rule, write what it decided. Few
    round trips: the office-day lock is held from the second statement to the commit, so every
    statement in between delays the next decision for that office and day."""
    s = uow.session
    wanted = rules.Request.of(request)
    settings = rules.Settings.of(config)

    row = s.execute(  # the office, and the user's settings if any, in one query
        select(Office, UserSettings.quota, UserSettings.auto_approved)
        .outerjoin(UserSettings, UserSettings.email == wanted.user)
        .where(Office.id == wanted.office)
    ).first()
    office = _office(row[0]) if row else None
    user_quota, auto_approved = (row[1], bool(row[2])) if row else (None, False)
    # Rules 5–7 need no lock: an unknown office or a day outside the window locks nothing.
    rules.admit(wanted, rules.Snapshot(office, user_quota, auto_approved), settings, now)
    assert office is not None  # rule 5: admit refused an unknown office

    # Lock the office-day counter row, then the user's week (always in this order).
    monday, sunday = rules.week_of(wanted.day)
    booked, booked_parking, version = s.execute(text(
        "WITH d AS (INSERT INTO booking.day_counts AS c (office, date, booked, booked_parking, version)"
        " VALUES (:office, :day, 0, 0, 0) ON CONFLICT (office, date) DO UPDATE SET version = c.version"
        " RETURNING booked, booked_parking, version)"
        " SELECT d.booked, d.booked_parking, d.version, pg_advisory_xact_lock(hashtext(:week_key)) FROM d"
    ), {"office": office.id, "day": wanted.day, "week_key": f"user-week:{wanted.user}:{monday}"}).one()[:3]
    # A new statement, so a new snapshot: it sees every booking committed before our locks.
    week = s.execute(
        select(Booking.office, Booking.date)
        .where(Booking.user == wanted.user, Booking.status == "active", Booking.date >= monday,
               Booking.date <= sunday)
    ).all()
    override = _override(s.get(DayOverride, (office.id, wanted.day), populate_existing=True))  # under the lock
    snapshot = rules.Snapshot(office, user_quota, auto_approved, rules.Counts(booked, booked_parking, version),
                              tuple(rules.Held(o, d) for o, d in week), override)
    new = rules.decide(wanted, snapshot, settings, now)  # rules 5–11; a rejection rolls back

    booking = Booking(id=uuid.uuid4().hex, user=new.user, office=office.id, date=new.day, parking=new.parking,
                      status="active", created_at=now, created_by=caller)
    inserted = insert(Booking).values(id=booking.id, user=booking.user, office=booking.office, date=booking.date,
                                      parking=booking.parking, status="active", created_at=now,
                                      created_by=caller).returning(Booking.id).cte()
    counted = (update(DayCount).where(DayCount.office == office.id, DayCount.date == new.day)
               .values(booked=new.counts.booked, booked_parking=new.counts.booked_parking,
                       version=new.counts.version)
               .returning(DayCount.version).cte())
    # both writes, one round trip (each CTE is one row: the join is on purpose)
    s.execute(select(inserted.c.id, counted.c.version).select_from(inserted).join(counted, true()))
    result = booking_json(booking, office)
    event = uow.emit(BOOKING_CREATED, actor=caller, entity="booking", entity_id=booking.id, office=office.id,
                     after=result, availability=availability(office.id, new.day, new.counts),
                     office_timezone=office.timezone, reason=new.reason, reason_required=new.reason_required)
    return result, event


# ------------------------------------------------------------------------------ cancel


def cancel_booking(db: Db, booking_id: str, caller: dict, now: datetime) -> dict:
    """Cancel per SPEC §4; returns {office, date} of the booking. `caller`: {email, system_admin,
    offices}."""
    who = rules.Caller.of(caller)
    with db.uow() as uow:
        s = uow.session
        row = s.execute(select(Booking, Office).join(Office, Office.id == Booking.office)
                        .where(Booking.id == booking_id).with_for_update(of=Booking)).first()
        change = rules.decide_cancel(_stored(row[0], row[1]) if row else None, who, now)
        assert row is not None  # decide_cancel refused an unknown booking
        booking, office = row
        before = booking_json(booking, office)
        booking.status = "cancelled"
        booking.cancelled_at = now
        booking.cancelled_by = who.email
        counts = change_counts(lock_day(s, booking.office, booking.date), change)
        s.flush()
        uow.emit(BOOKING_CANCELLED, actor=who.email, entity="booking", entity_id=booking.id, office=booking.office,
                 before=before, after=booking_json(booking, office),
                 availability=availability(booking.office, booking.date, counts), office_timezone=office.timezone)
        uow.commit()
        return {"office": booking.office, "date": booking.date.isoformat()}


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
    if not include_cancelled:
        query = query.where(Booking.status == "active")
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


def set_day(db: Db, office_id: str, day_value: str, fields: dict, actor: str, now: datetime,
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
                                                          Booking.status == "active")
                                    .order_by(Booking.id).with_for_update()).all())
        counter = lock_day(s, office_id, day)
        current = _override(s.get(DayOverride, (office_id, day), populate_existing=True))
        if decision is None:
            decision = rules.decide_day(office, day, current, change, now)  # raises the 400s
        if decision.cancel_existing:  # bookings made before we held the lock
            seen = {b.id for b in doomed}
            doomed += [b for b in s.scalars(select(Booking).where(Booking.office == office_id, Booking.date == day,
                                                                  Booking.status == "active")
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
        for booking in doomed if decision.cancel_existing else []:
            before = booking_json(booking, office)
            booking.status, booking.cancelled_at, booking.cancelled_by = "cancelled", now, actor
            counts = change_counts(counter, rules.CounterChange(-1, -1 if booking.parking else 0))
            uow.emit(BOOKING_CANCELLED, actor=actor, entity="booking", entity_id=booking.id, office=office_id,
                     before=before, after=booking_json(booking, office),
                     availability=availability(office_id, day, counts), office_timezone=office.timezone,
                     note=(decision.override.note if decision.override else None) or "The office is closed that day.")
        counts = change_counts(counter, rules.CounterChange(0, 0))  # a new version for the override
        s.flush()
        cancelled = len(doomed) if decision.cancel_existing else 0
        if decision.override != current or cancelled:
            uow.emit(DAY_CHANGED, actor=actor, entity="office_day", entity_id=f"{office_id}/{day.isoformat()}",
                     office=office_id, before=current.as_dict() if current else None,
                     after=decision.override.as_dict() if decision.override else None,
                     override=decision.override.as_dict() if decision.override else None,
                     availability=availability(office_id, day, counts), cancelled=cancelled)
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


def upsert_office(db: Db, office: dict, changed_at: datetime | None = None) -> None:
    """Copy an office into the read model. `deadline_since` becomes `changed_at` (when the change
    happened: the event's `at`; the sync's own time otherwise) whenever the check-in deadline
    changes, so the release job applies a new deadline only to deadlines after it (SPEC §11: a new
    deadline never releases past days)."""
    values = {k: office[k] for k in ("id", "name", "quota", "parking_quota", "timezone", "retired")}
    values["check_in_deadline"] = office.get("check_in_deadline")
    since = changed_at or datetime.now(tz=ZoneInfo("UTC"))
    with db.uow() as uow:
        stmt = insert(Office).values(**values, deadline_since=since)
        uow.session.execute(stmt.on_conflict_do_update(
            index_elements=["id"], set_={**{k: v for k, v in values.items() if k != "id"},
                                         "deadline_since": case(
                                             (Office.check_in_deadline.is_distinct_from(
                                                 stmt.excluded.check_in_deadline), stmt.excluded.deadline_since),
                                             else_=Office.deadline_since)}))
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
            booking.status, booking.released_at, booking.released_by = "released", now, SYSTEM_ACTOR
            counts = change_counts(counter, rules.CounterChange(-1, -1 if booking.parking else 0))
            uow.emit(BOOKING_RELEASED, actor=SYSTEM_ACTOR, entity="booking", entity_id=booking.id, office=office_id,
                     before=before, after=booking_json(booking, office),
                     availability=availability(office_id, day, counts), office_timezone=office.timezone,
                     automatic=True, check_in_deadline=office.check_in_deadline)
        s.flush()
        uow.commit()
        return len(rows)


def release_booking(db: Db, booking_id: str, caller: dict, now: datetime) -> dict:
    """"I'm not coming" (SPEC §11, `rules.decide_release`): the booking is released and its place
    freed at once. An already released booking answers as it is (nothing changes)."""
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
        booking.status, booking.released_at, booking.released_by = "released", now, who.email
        counts = change_counts(lock_day(s, booking.office, booking.date), change)
        s.flush()
        result = booking_json(booking, office)
        uow.emit(BOOKING_RELEASED, actor=who.email, entity="booking", entity_id=booking.id, office=booking.office,
                 before=before, after=result, availability=availability(booking.office, booking.date, counts),
                 office_timezone=office.timezone, automatic=False, check_in_deadline=office.check_in_deadline)
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
