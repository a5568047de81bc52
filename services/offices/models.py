"""Offices tables, in the `offices` schema."""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from obcommon.db import CommandColumns, OutboxColumns, service_metadata, utcnow


class Base(DeclarativeBase):
    metadata = service_metadata("offices")


class OutboxMessage(OutboxColumns, Base):
    """Events waiting to be published (`obcommon.db.OutboxColumns`)."""


class CommandRecord(CommandColumns, Base):
    """Committed answers of command RPCs (`obcommon.db.CommandColumns`)."""


class Office(Base):
    __tablename__ = "offices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Listing order: the order offices were configured or created (SPEC §3).
    position: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    quota: Mapped[int] = mapped_column(Integer)
    parking_quota: Mapped[int] = mapped_column(Integer, default=0)
    timezone: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    check_in_deadline: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "HH:MM" (SPEC §11)
    # SPEC §13: "first_come" or "ballot"; a ballot office's days are drawn `ballot_draw_days_before`
    # days ahead at `ballot_draw_time` (office time)
    allocation: Mapped[str] = mapped_column(String(12), default="first_come", server_default="first_come")
    ballot_draw_days_before: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    ballot_draw_time: Mapped[str] = mapped_column(String(5), default="12:00", server_default="12:00")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The office's revision: 1 when created, +1 with every change (`update_office`). Its events carry
    # it (`contract.OfficeEvent`), and the RPCs with `with_version`, so a read model keeps the newest
    # copy whatever order its copies arrive in (two replicas' events, a sync that read before a
    # change). Not one of SPEC §9's fields: `to_dict` leaves it out.
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "quota": self.quota, "parking_quota": self.parking_quota,
                "timezone": self.timezone, "retired": self.retired, "check_in_deadline": self.check_in_deadline,
                # (the column defaults, also for an office not flushed yet)
                "allocation": self.allocation or "first_come",
                "ballot_draw_days_before": self.ballot_draw_days_before or 7,
                "ballot_draw_time": self.ballot_draw_time or "12:00"}
