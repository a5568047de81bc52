"""Booking's administration queries and erasure: stats, and deleting an erased user's
bookings. Kept apart from `repository.py` (the decisions) so each can change on its own; the
rules (ranges, what an erasure frees) are pure functions in `rules.py`, and the counter lock and
availability payload are the repository's public helpers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from obcommon.config import AppConfig
from obcommon.db import delete_rows, forget_answers_naming
from obcommon.emails import normalize_email
from obcommon.service import Db

from . import repository, rules
from .exceptions import InvalidRange
from .models import (
    Base,
    Booking,
    CalendarFeed,
    DayCount,
    IdempotencyKey,
    Occurrence,
    Office,
    RecurringPattern,
    RefusalSummary,
    UserSettings,
    WaitlistEntry,
)

# ------------------------------------------------------------------------------ stats


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
    from .contract import USER_BOOKINGS_ERASED

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
            counter = repository.lock_day(s, office, day)
            counters.setdefault(office, {})[day] = counter
            if (office, day) in freed:
                counts = repository.change_counts(counter, freed[(office, day)])
                changed.append(repository.availability(office, day, counts))
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
                repository.promote_waiting(uow, row, freed_days, rules.Settings.of(config), now)
        uow.commit()
        return len(rows)
