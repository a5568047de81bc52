"""Audit tables, in the `audit` schema."""
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from obcommon.db import CommandColumns, OutboxColumns, service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata("audit")


class OutboxMessage(OutboxColumns, Base):
    """Events waiting to be published (`obcommon.db.OutboxColumns`)."""


class CommandRecord(CommandColumns, Base):
    """Committed answers of command RPCs (`obcommon.db.CommandColumns`)."""


class Record(Base):
    """One change, as its event's envelope: never the event's other fields (codes, reasons)."""

    __tablename__ = "records"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(Text, unique=True)  # redeliveries are not doubled
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    service: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(Text, nullable=True, index=True)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    office: Mapped[str | None] = mapped_column(Text, nullable=True, index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)


class Erasure(Base):
    """An erased user, by pseudonym only (never the email): an event about them that arrives after
    the erasure (published just before it, delivered late) is pseudonymised on arrival."""

    __tablename__ = "erasures"
    pseudonym: Mapped[str] = mapped_column(Text, primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
