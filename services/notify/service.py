"""Notify: sends email (SPEC §2 sign-in codes; booking emails of §4 come later).

Events are never mailed inline: a handler stores the mail with `enqueue()` (one row per source
event, so a redelivered event never mails twice) and returns, so the broker message is acked only
once the mail is stored. The sender (`dependencies.Sender`: a 1 s timer, and a wake-up after each
stored mail) sends due rows and retries failures with backoff until they are sent.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Optional

from nameko.timer import timer
from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from obcommon.db import UnitOfWork, utcnow
from obcommon.service import BaseService, Database, event_handler, rpc
from services.booking.contract import BOOKING_CANCELLED, BOOKING_CREATED
from services.identity.contract import LOGIN_CODE_ISSUED, USER_ERASED

from . import rules
from .contract import SERVICE
from .dependencies import MailSender
from .models import Base, Mail
from .schemas import Attachment, BookingMail, LoginCodeMail, OutboxStatus

log = logging.getLogger(__name__)


def enqueue(uow: UnitOfWork, source_event_id: str, to: str, subject: str, body: str, kind: str,
            attachments: Optional[list[dict]] = None) -> bool:
    """Store a mail in the caller's transaction; False if `source_event_id` already has one.

    When one event yields several mails, suffix the event id: `f"{event_id}:{kind}"`.
    Attachments are `{filename, content_type, content}` (content: text for text/*, else base64).
    """
    stored = [Attachment.model_validate(a).model_dump() for a in attachments or []] or None
    now = utcnow()
    row_id = uow.session.execute(
        insert(Mail)
        .values(source_event_id=source_event_id, kind=kind, to_address=to, subject=subject, body=body,
                attachments=stored, created_at=now, attempts=0, next_attempt_at=now)
        .on_conflict_do_nothing(index_elements=[Mail.source_event_id])
        .returning(Mail.id)
    ).scalar()
    return row_id is not None


class NotifyService(BaseService):
    name = SERVICE

    db = Database(Base)
    sender = MailSender()

    # ---------------------------------------------------------------- events in

    @event_handler(LOGIN_CODE_ISSUED.service, LOGIN_CODE_ISSUED.name, requeue_on_error=True)
    def on_login_code_issued(self, payload: dict) -> None:
        try:
            event = LoginCodeMail.model_validate(payload)
        except ValidationError as exc:  # a bug in the sender: requeueing would loop forever
            event_id = payload.get("event_id") if isinstance(payload, dict) else None
            log.error("dropping malformed %s event %s (bad fields: %s)", LOGIN_CODE_ISSUED.name, event_id,
                      ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()))
            return
        subject, body = rules.login_code_mail(event.code, event.ttl_minutes)
        with self.db.uow() as uow:
            stored = enqueue(uow, event.event_id, event.entity_id, subject, body, rules.LOGIN_CODE)
            uow.commit()
        if not stored:
            return  # redelivered: already stored (and maybe sent)
        if self.sender.local_development:  # SPEC §2: the developer sees the code in the console
            log.info("development mode: sign-in code for %s is %s", event.entity_id, event.code)
        self.sender.wake()

    @event_handler(BOOKING_CREATED.service, BOOKING_CREATED.name, requeue_on_error=True)
    def on_booking_created(self, payload: dict) -> None:
        """A confirmation with an .ics to the booked-for user; with reason-to-book, a notice to
        notification_to_address (the reason lives only in that mail until it is sent)."""
        event = self._booking_event(payload)
        if event is None:
            return
        booking, cfg = event.after, self.settings
        subject, body = rules.booking_confirmation_mail(booking, event.actor or booking["user"])
        ics = rules.booking_calendar(booking, event.office_timezone, cfg.from_address)
        attachment = {"filename": "booking.ics", "content_type": "text/calendar; method=PUBLISH", "content": ics}
        with self.db.uow() as uow:
            enqueue(uow, f"{event.event_id}:{rules.BOOKING_CONFIRMATION}", booking["user"], subject, body,
                    rules.BOOKING_CONFIRMATION, [attachment])
            if event.reason_required and cfg.notification_to_address:
                subject, body = rules.reason_notification_mail(booking, event.reason)
                enqueue(uow, f"{event.event_id}:{rules.REASON_NOTIFICATION}", cfg.notification_to_address, subject,
                        body, rules.REASON_NOTIFICATION)
            uow.commit()
        self.sender.wake()

    @event_handler(BOOKING_CANCELLED.service, BOOKING_CANCELLED.name, requeue_on_error=True)
    def on_booking_cancelled(self, payload: dict) -> None:
        """A notice to the user when someone else cancelled their booking."""
        event = self._booking_event(payload)
        if event is None or not event.before or event.actor == event.before["user"]:
            return
        subject, body = rules.booking_cancelled_mail(event.before, event.actor or "an administrator")
        with self.db.uow() as uow:
            enqueue(uow, f"{event.event_id}:{rules.BOOKING_CANCELLED}", event.before["user"], subject, body,
                    rules.BOOKING_CANCELLED)
            uow.commit()
        self.sender.wake()

    @staticmethod
    def _booking_event(payload: dict) -> Optional[BookingMail]:
        try:
            return BookingMail.model_validate(payload)
        except ValidationError as exc:  # a bug in the sender: requeueing would loop forever
            log.error("dropping malformed booking event %s (bad fields: %s)",
                      payload.get("event_id") if isinstance(payload, dict) else None,
                      ", ".join(".".join(map(str, e["loc"])) for e in exc.errors()))
            return None

    # ---------------------------------------------------------------- sending

    @timer(interval=1)
    def send_due(self) -> None:
        self.sender.run()

    @timer(interval=3600)
    def purge_sent(self) -> None:
        """Sent mails (already without body) are kept `data_retention_days`, then deleted."""
        cutoff = utcnow() - timedelta(days=self.settings.data_retention_days)
        with self.db.uow() as uow:
            uow.session.execute(delete(Mail).where(Mail.sent_at < cutoff))
            uow.commit()

    # ---------------------------------------------------------------- status

    @rpc
    def pending_count(self) -> int:
        with self.db.uow() as uow:
            return uow.session.scalar(select(func.count()).select_from(Mail).where(Mail.sent_at.is_(None)))

    @rpc
    def outbox_status(self) -> dict:
        with self.db.uow() as uow:
            pending, failing, oldest = uow.session.execute(
                select(func.count(), func.count().filter(Mail.attempts > 0), func.min(Mail.created_at))
                .where(Mail.sent_at.is_(None))
            ).one()
        return OutboxStatus(pending=pending, failing=failing,
                            oldest_pending_at=oldest.isoformat() if oldest else None).model_dump()

    # ---------------------------------------------------------------- erasure

    @event_handler(USER_ERASED.service, USER_ERASED.name, requeue_on_error=True)
    def on_user_erased(self, payload: dict) -> None:
        """An erased user's mails go, sent or not: those to them and those about them (a reason
        notification names the user in its subject)."""
        email = payload.get("email") if isinstance(payload, dict) else None
        if not email:
            return
        email = str(email).strip().lower()
        with self.db.uow() as uow:
            uow.session.execute(delete(Mail).where(
                (func.lower(Mail.to_address) == email) | (func.strpos(func.lower(Mail.subject), email) > 0)))
            uow.commit()


Service = NotifyService
