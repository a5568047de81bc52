"""Schemas of what notify reads (events of other services) and answers (RPC results)."""
from typing import Optional

from pydantic import BaseModel, ConfigDict


class LoginCodeMail(BaseModel):
    """The part of identity's `login_code_issued` notify needs. A tolerant reader: fields added
    to the event later are ignored instead of making the event undeliverable."""

    model_config = ConfigDict(extra="ignore")

    event_id: str
    entity_id: str  # the email address the code was issued for
    code: str
    expires_at: str
    ttl_minutes: int


class Attachment(BaseModel):
    """A stored attachment: `content` is text for text/* types, base64 otherwise."""

    filename: str
    content_type: str
    content: str


class OutboxStatus(BaseModel):
    pending: int  # not sent yet
    failing: int  # not sent yet and at least one attempt failed
    oldest_pending_at: Optional[str]


class BookingMail(BaseModel):
    """The part of booking's `booking_created` / `booking_cancelled` notify needs (tolerant)."""

    model_config = ConfigDict(extra="ignore")

    event_id: str
    actor: Optional[str] = None
    before: Optional[dict] = None
    after: Optional[dict] = None
    office_timezone: str
    reason: Optional[str] = None
    reason_required: bool = False
