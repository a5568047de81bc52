"""Schemas of what notify stores and answers (RPC results). The events it reads are typed by their
producers' contracts (identity, booking)."""

from pydantic import BaseModel


class Attachment(BaseModel):
    """A stored attachment: `content` is text for text/* types, base64 otherwise."""

    filename: str
    content_type: str
    content: str


class OutboxStatus(BaseModel):
    pending: int  # not sent yet
    failing: int  # not sent yet and at least one attempt failed
    oldest_pending_at: str | None
