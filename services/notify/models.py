"""Notify tables, in the `notify` schema."""
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from obcommon.db import OutboxColumns, service_metadata, utcnow

# 0 for a sign-in code, 1 for any other mail (SQL, literal: the index below matches the claim's).
LOGIN_FIRST = "(CASE WHEN kind = 'login_code' THEN 0 ELSE 1 END)"


class Base(DeclarativeBase):
    metadata = service_metadata("notify")


class OutboxMessage(OutboxColumns, Base):
    """Events waiting to be published (`obcommon.db.OutboxColumns`)."""


class Mail(Base):
    """One email to send. Rows stay until sent (nothing is lost if SMTP is down); once sent, the
    body and attachments are cleared so no sign-in code or booking detail is kept."""

    __tablename__ = "mail"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # The event that caused it (suffixed `:<kind>` when one event yields several mails):
    # a redelivered event never mails twice.
    source_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    # [{filename, content_type, content}], content is text for text/* types, else base64.
    attachments: Mapped[list | None] = mapped_column(JSONB(none_as_null=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (
        # The sender's claim (`repository.claim_due`): unsent rows, sign-in codes first, then by
        # when they are due. The expression is the claim's first sort key, written the same way.
        Index("ix_mail_due", text(LOGIN_FIRST), "next_attempt_at", "id", postgresql_where=text("sent_at IS NULL")),
        Index("ix_mail_sent_at", "sent_at"),
    )
