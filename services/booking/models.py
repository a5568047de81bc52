"""Booking tables, in the `booking` schema."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from obcommon.db import make_base, utcnow

Base = make_base("booking")


class Booking(Base):
    __tablename__ = "bookings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user: Mapped[str] = mapped_column(String(254))
    office: Mapped[str] = mapped_column(String(64))
    date: Mapped[date] = mapped_column(Date)
    parking: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (
        Index("ix_bookings_office_date", "office", "date"),
        Index("ix_bookings_user_date", "user", "date"),
    )


class DayCount(Base):
    """Per office and day: places and parking taken by active bookings (the capacity counters)."""

    __tablename__ = "day_counts"
    office: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    booked_parking: Mapped[int] = mapped_column(Integer, default=0)
