"""Notify: sends email: sign-in codes (SPEC §2) and the booking mails (confirmations, notices).

Events are never mailed inline: a handler stores the mail with `enqueue()` (one row per source
event, so a redelivered event never mails twice) and returns, so the broker message is acked only
once the mail is stored. The sender (`dependencies.Sender`: a 1 s timer, and a wake-up after each
stored mail) sends due rows and retries failures with backoff until they are sent.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from nameko.timer import timer

from obcommon.config import ConfigError, Env
from obcommon.db import utcnow
from obcommon.links import RELEASE_LINK_PURPOSE, release_url
from obcommon.service import BaseService, Database, consumes, rpc
from services.booking.contract import BOOKING_CANCELLED, BOOKING_CREATED, BOOKING_RELEASED
from services.booking.schemas import BookingEvent, BookingReleased
from services.identity.contract import LOGIN_CODE_ISSUED, USER_ERASED
from services.identity.schemas import LoginCodeIssued, UserErased

from . import repository, rules
from .contract import SERVICE
from .dependencies import MailSender
from .models import Base
from .repository import enqueue
from .schemas import OutboxStatus

log = logging.getLogger(__name__)


class NotifyService(BaseService):
    name = SERVICE

    db = Database(Base)
    sender = MailSender()

    # ---------------------------------------------------------------- events in

    @consumes(LOGIN_CODE_ISSUED)
    def on_login_code_issued(self, event: LoginCodeIssued) -> None:
        subject, body = rules.login_code_mail(event.code, event.ttl_minutes)
        with self.db.uow() as uow:
            stored = enqueue(uow, event.event_id, event.entity_id, subject, body, rules.LOGIN_CODE)
            uow.commit()
        if not stored:
            return  # redelivered: already stored (and maybe sent)
        if self.sender.local_development:  # SPEC §2: the developer sees the code in the console
            log.info("development mode: sign-in code for %s is %s", event.entity_id, event.code)
        self.sender.wake()

    @consumes(BOOKING_CREATED)
    def on_booking_created(self, event: BookingEvent) -> None:
        """A confirmation with an .ics to the booked-for user; with reason-to-book, a notice to
        notification_to_address (the reason lives only in that mail until it is sent)."""
        if not event.after:
            log.error("booking_created event %s without the booking: no mail", event.event_id)
            return
        booking, cfg = event.after, self.settings
        subject, body = rules.booking_confirmation_mail(booking, event.actor or booking["user"],
                                                        self._release_link(booking["id"]))
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

    @consumes(BOOKING_CANCELLED)
    def on_booking_cancelled(self, event: BookingEvent) -> None:
        """A notice to the user when someone else cancelled their booking, or when a closure of the
        day cancelled it (SPEC §15: every holder, with the day's note)."""
        if not event.before or (event.actor == event.before["user"] and not event.note):
            return
        subject, body = rules.booking_cancelled_mail(event.before, event.actor or "an administrator", event.note)
        with self.db.uow() as uow:
            enqueue(uow, f"{event.event_id}:{rules.BOOKING_CANCELLED}", event.before["user"], subject, body,
                    rules.BOOKING_CANCELLED)
            uow.commit()
        self.sender.wake()

    def _release_link(self, booking_id: str) -> str | None:
        """The signed "I'm not coming" link of the confirmation mail (SPEC §11); None without SECRET_KEY."""
        try:
            key = Env.from_environ().derive_key(RELEASE_LINK_PURPOSE)
        except ConfigError:
            return None
        return release_url(key, booking_id, self.settings.web_url)

    @consumes(BOOKING_RELEASED)
    def on_booking_released(self, event: BookingReleased) -> None:
        """SPEC §11: the holder is told their place was released (at the deadline, or by an admin
        or themselves from another device: every release is mailed, once per event)."""
        if not event.before:
            log.error("booking_released event %s without the booking: no mail", event.event_id)
            return
        subject, body = rules.booking_released_mail(event.before, event.check_in_deadline, event.automatic)
        with self.db.uow() as uow:
            enqueue(uow, f"{event.event_id}:{rules.BOOKING_RELEASED}", event.before["user"], subject, body,
                    rules.BOOKING_RELEASED)
            uow.commit()
        self.sender.wake()

    # ---------------------------------------------------------------- sending

    @timer(interval=1)
    def send_due(self) -> None:
        self.sender.run()

    @timer(interval=3600)
    def purge_sent(self) -> None:
        """Sent mails (already without body) are kept `data_retention_days`, then deleted."""
        repository.purge_sent(self.db, utcnow() - timedelta(days=self.settings.data_retention_days))

    # ---------------------------------------------------------------- status

    @rpc
    def pending_count(self) -> int:
        return repository.pending_count(self.db)

    @rpc
    def outbox_status(self) -> dict:
        pending, failing, oldest = repository.outbox_status(self.db)
        return OutboxStatus(pending=pending, failing=failing,
                            oldest_pending_at=oldest.isoformat() if oldest else None).model_dump()

    # ---------------------------------------------------------------- erasure

    @consumes(USER_ERASED)
    def on_user_erased(self, event: UserErased) -> None:
        """An erased user's mails go, sent or not: those to them and those about them (a reason
        notification names the user in its subject)."""
        email = event.email.strip().lower()
        if not email:
            return
        repository.erase_mails(self.db, email)


Service = NotifyService
