"""Booking tables, in the `booking` schema."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Identity, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from obcommon.db import CommandColumns, OutboxColumns, service_metadata, utcnow


class Base(DeclarativeBase):
    metadata = service_metadata("booking")


class OutboxMessage(OutboxColumns, Base):
    """Events waiting to be published (`obcommon.db.OutboxColumns`)."""


class CommandRecord(CommandColumns, Base):
    """Committed answers of command RPCs (`obcommon.db.CommandColumns`)."""


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(254))
    office: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date)
    parking: Mapped[bool] = mapped_column(Boolean, default=False)
    # active | cancelled | released (SPEC §11) | requested, waitlisted (a ballot request, SPEC §13)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # SPEC §11: released at the check-in deadline (by "system") or by its holder / an admin
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # SPEC §14: the calendar event's SEQUENCE, bumped by every later change of the booking's status
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (
        Index("ix_bookings_office_date", "office", "date"),
        Index("ix_bookings_due_release", "office", "date",
              postgresql_where=text("status = 'active' AND checked_in_at IS NULL")),
        Index("ix_bookings_user_date", "user", "date"),
        # Rule 8 as a last line of defence: one active (or requested) booking per user, office and day.
        Index("uq_bookings_held_user_office_date", "user", "office", "date", unique=True,
              postgresql_where=text("status IN ('active', 'requested')")),
        Index("ix_bookings_requested", "office", "date", postgresql_where=text("status = 'requested'")),
    )


class DayCount(Base):
    """Per office and day: places and parking taken by active bookings (the capacity counters).

    The row is locked (`FOR UPDATE`) by every decision for that office and day, which serialises
    them; `version` grows with each change so readers can order updates."""

    __tablename__ = "day_counts"
    office: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    booked_parking: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class DayOverride(Base):
    """An admin's override of one office-day (SPEC §15): its own quota / parking quota (null: the
    office's), closed, a note. Written only under that office-day's counter lock, and read by a
    decision under the same lock, so a closure or a lowered quota and a booking are serialised."""

    __tablename__ = "day_overrides"
    office: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    parking_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))


class Office(Base):
    """Read model of the offices service's offices (kept current by its events)."""

    __tablename__ = "offices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    quota: Mapped[int] = mapped_column(Integer)
    parking_quota: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    check_in_deadline: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "HH:MM" office time
    # When this process's copy first saw the current deadline: the release job applies it only to
    # deadlines that fall after this moment, so setting a deadline never releases past days.
    deadline_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    allocation: Mapped[str] = mapped_column(String(12), default="first_come", server_default="first_come")
    ballot_draw_days_before: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    ballot_draw_time: Mapped[str] = mapped_column(String(5), default="12:00", server_default="12:00")
    # The copied office's revision (offices' `version`): a copy only replaces an older one.
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class WaitlistEntry(Base):
    """A place in the queue of a full (or closed) office-day (SPEC §12). Served in `seq` order:
    the order of joining, or a ballot's draw order (its losers are inserted in that order). Only
    `waiting` entries are in the queue; the others are its history (promoted to `booking_id`, left,
    expired at the day's deadline, or cancelled by a closure or an erasure). Every change happens
    under the office-day's counter lock, so a freed place goes to exactly one entry."""

    __tablename__ = "waitlist"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    user: Mapped[str] = mapped_column(String(254))
    office: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date)
    parking: Mapped[bool] = mapped_column(Boolean, default=False)
    # rule 7's reason, kept only while waiting (for the facilities mail of the booking it becomes)
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="waiting")  # waiting|promoted|left|expired|cancelled
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    request_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the ballot request it came from
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    booking_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the booking it became
    __table_args__ = (
        Index("ix_waitlist_waiting", "office", "date", "seq", postgresql_where=text("status = 'waiting'")),
        Index("ix_waitlist_user", "user", "date"),
        Index("uq_waitlist_waiting_user_office_date", "user", "office", "date", unique=True,
              postgresql_where=text("status = 'waiting'")),
    )


class BallotDraw(Base):
    """One row per drawn office-day (SPEC §13): inserted in the draw's transaction, under the
    office-day lock, so a day is drawn exactly once whatever the replicas."""

    __tablename__ = "ballot_draws"
    office: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    seed: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    winners: Mapped[int] = mapped_column(Integer, default=0)


class UserSettings(Base):
    """Read model of identity's per-user booking settings (kept current by its events)."""

    __tablename__ = "user_settings"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: default quota
    auto_approved: Mapped[bool] = mapped_column(Boolean, default=False)


class IdempotencyKey(Base):
    """First response to a POST /api/bookings with an Idempotency-Key, per caller, for 24 h."""

    __tablename__ = "idempotency_keys"
    caller: Mapped[str] = mapped_column(String(254), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class RecurringPattern(Base):
    """A user's regular office days (SPEC §14): each occurrence (a date on one of `weekdays`, ISO
    1 = Monday, up to `until`) is booked when it enters the office's bookable window, under every
    rule of SPEC §4. Deleting a pattern (`deleted_at`) keeps the bookings it made."""

    __tablename__ = "recurring_patterns"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(254), index=True)
    office: Mapped[str] = mapped_column(String(64))
    weekdays: Mapped[str] = mapped_column(String(20))  # "1,3,5"
    parking: Mapped[bool] = mapped_column(Boolean, default=False)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)  # rule 7, kept with the pattern
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Occurrence(Base):
    """One date of a pattern, decided once (SPEC §14): the row is inserted in the transaction of
    its booking decision, so a date is decided exactly once whatever the replicas; a refusal is
    kept with its message (never retried) until the user's daily summary mail (`summarised_at`)."""

    __tablename__ = "occurrences"
    pattern_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    user: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(10))  # booked | requested | refused
    code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    booking_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    summarised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RefusalSummary(Base):
    """One summary mail of refused occurrences per user and (UTC) day (SPEC §14)."""

    __tablename__ = "refusal_summaries"
    user: Mapped[str] = mapped_column(String(254), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class CalendarFeed(Base):
    """A user's secret calendar feed URL (SPEC §14): only the SHA-256 of its token is stored; a
    new one replaces it, so the earlier URL stops working."""

    __tablename__ = "calendar_feeds"
    user: Mapped[str] = mapped_column(String(254), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
