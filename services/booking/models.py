"""Booking tables, in the `booking` schema."""
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, String, text
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
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | cancelled | released
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # SPEC §11: released at the check-in deadline (by "system") or by its holder / an admin
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    __table_args__ = (
        Index("ix_bookings_office_date", "office", "date"),
        Index("ix_bookings_due_release", "office", "date",
              postgresql_where=text("status = 'active' AND checked_in_at IS NULL")),
        Index("ix_bookings_user_date", "user", "date"),
        # Rule 8 as a last line of defence: one active booking per user, office and day.
        Index("uq_bookings_active_user_office_date", "user", "office", "date", unique=True,
              postgresql_where=text("status = 'active'")),
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
