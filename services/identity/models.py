"""Identity tables, in the `identity` schema."""
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, Index, Integer, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from obcommon.db import CommandColumns, OutboxColumns, service_metadata, utcnow


class Base(DeclarativeBase):
    metadata = service_metadata("identity")


class OutboxMessage(OutboxColumns, Base):
    """Events waiting to be published (`obcommon.db.OutboxColumns`)."""


class CommandRecord(CommandColumns, Base):
    """Committed answers of command RPCs (`obcommon.db.CommandColumns`)."""


class User(Base):
    """A profile; created at first sign-in or when an admin prepares it."""

    __tablename__ = "users"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: default quota
    role: Mapped[str] = mapped_column(String(20), default="Default")  # Default | Office Admin
    role_offices: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    auto_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # SPEC §16: disabled by the identity provider (SCIM `active: false`): no sign-in, no sessions
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # SCIM: the resource's stable id (never the email), the provider's externalId, displayName
    scim_id: Mapped[str] = mapped_column(String(32), default=lambda: uuid.uuid4().hex)
    external_id: Mapped[str | None] = mapped_column(String(254), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(254), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the SCIM User as the provider last sent it (names, emails …), kept so it reads back as written
    scim_resource: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    __table_args__ = (Index("uq_users_scim_id", "scim_id", unique=True),)


class LoginCode(Base):
    """The one live code of an address, stored as an HMAC; a new request replaces it."""

    __tablename__ = "login_codes"
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    wrong_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RateHit(Base):
    """One code request, counted against a key (`email:…` or `client:…`) in a sliding window."""

    __tablename__ = "rate_hits"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_rate_hits_key_at", "key", "at"),)


class VerifyFailure(Base):
    """One wrong code, counted against a key (`email:…` or `client:…`) across codes in a sliding
    window (verify_failure_window_hours); a successful sign-in removes none."""

    __tablename__ = "verify_failures"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_verify_failures_key_at", "key", "at"),)


class Session(Base):
    """A signed-in session; `id` is the SHA-256 of the bearer token (the token is never stored)."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
