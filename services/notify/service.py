"""Notify: sends email: sign-in codes (SPEC §2) and the booking mails (confirmations, notices).

Events are never mailed inline: a handler stores the mails with `repository.store()` (one row per
source event and kind, so a redelivered event never mails twice) and returns, so the broker message is acked only
once the mail is stored. The sender (`dependencies.Sender`: a 1 s timer, and a wake-up after each
stored mail) sends due rows and retries failures with backoff until they are sent.
"""
from __future__ import annotations

import functools
import logging
from datetime import timedelta

from nameko.timer import timer

from obcommon import calendar
from obcommon.config import ConfigError, Env
from obcommon.db import utcnow
from obcommon.links import RELEASE_LINK_PURPOSE, release_url
from obcommon.messaging import EventPayload
from obcommon.service import BaseService, Database, consumes, rpc
from services.booking.contract import (
    BALLOT_DRAWN,
    BOOKING_CANCELLED,
    BOOKING_CREATED,
    BOOKING_RELEASED,
    RECURRING_REFUSED,
    WAITLIST_CANCELLED,
    WAITLIST_EXPIRED,
)
from services.booking.schemas import BallotDrawn, BookingEvent, BookingReleased, WaitlistEvent
from services.identity.contract import LOGIN_CODE_ISSUED, USER_ERASED
from services.identity.schemas import LoginCodeIssued, UserErased

from . import repository, rules
from .contract import SERVICE
from .dependencies import MailSender
from .models import Base
from .schemas import OutboxStatus

log = logging.getLogger(__name__)


@functools.cache
def _release_key() -> bytes | None:
    """The release links' signing key, derived once per process (the environment does not change)."""
    try:
        return Env.from_environ().derive_key(RELEASE_LINK_PURPOSE)
    except ConfigError:
        return None


class NotifyService(BaseService):
    name = SERVICE

    db = Database(Base)
    sender = MailSender()

    # ---------------------------------------------------------------- events in

    @consumes(LOGIN_CODE_ISSUED)
    def on_login_code_issued(self, event: LoginCodeIssued) -> None:
        subject, body = rules.login_code_mail(event.code, event.ttl_minutes)
        if not repository.store(self.db, [rules.Mail(event.event_id, event.entity_id, subject, body, rules.LOGIN_CODE)]):
            return  # redelivered: already stored (and maybe sent)
        if self.sender.local_development:  # SPEC §2: the developer sees the code in the console
            log.info("development mode: sign-in code for %s is %s", event.entity_id, event.code)
        self.sender.wake()

    @consumes(BOOKING_CREATED)
    def on_booking_created(self, event: BookingEvent) -> None:
        """A confirmation with an .ics to the booked-for user ("You have a place" when the waitlist
        made it; "Request received" for a ballot request); with reason-to-book, a notice to
        notification_to_address (the reason lives only in that mail until it is sent)."""
        if not event.after:
            log.error("booking_created event %s without the booking: no mail", event.event_id)
            return
        booking, cfg = event.after, self.settings
        if booking["status"] == "requested":
            subject, body = rules.request_mail(booking, self._draw_label(event))
            mails = [rules.Mail(f"{event.event_id}:{rules.BOOKING_REQUESTED}", booking["user"], subject, body,
                                rules.BOOKING_REQUESTED)]
        else:
            if booking.get("created_by") == "waitlist":
                subject, body = rules.promoted_mail(booking, self._release_link(booking["id"]))
            else:
                subject, body = rules.booking_confirmation_mail(booking, event.actor or booking["user"],
                                                                self._release_link(booking["id"]))
            mails = [rules.Mail(f"{event.event_id}:{rules.BOOKING_CONFIRMATION}", booking["user"], subject, body,
                                rules.BOOKING_CONFIRMATION, [self._invitation(booking, event.sequence)])]
        if event.reason_required and cfg.notification_to_address:
            subject, body = rules.reason_notification_mail(booking, event.reason)
            mails.append(rules.Mail(f"{event.event_id}:{rules.REASON_NOTIFICATION}", cfg.notification_to_address,
                                    subject, body, rules.REASON_NOTIFICATION))
        repository.store(self.db, mails)
        self.sender.wake()

    def _invitation(self, booking: dict, sequence: int, cancel: bool = False) -> dict:
        """SPEC §14: a calendar invitation (METHOD:REQUEST), or its cancellation (METHOD:CANCEL),
        with the booking's UID and SEQUENCE, so the user's calendar updates the one event."""
        return calendar.invitation(booking, sequence, self.settings.from_address, cancel=cancel)

    @staticmethod
    def _draw_label(event: BookingEvent) -> str | None:
        """When a ballot request's day is drawn, in words (office time), from the event's office."""
        if not event.draw_at:
            return None
        from datetime import datetime

        return datetime.fromisoformat(event.draw_at).strftime("%A %d %B at %H:%M")

    @consumes(BOOKING_CANCELLED)
    def on_booking_cancelled(self, event: BookingEvent) -> None:
        """A notice to the user when someone else cancelled their booking, or when a closure of the
        day cancelled it (SPEC §15: every holder, with the day's note)."""
        if not event.before or (event.actor == event.before["user"] and not event.note):
            return
        subject, body = rules.booking_cancelled_mail(event.before, event.actor or "an administrator", event.note)
        cancel = [self._invitation(event.after or event.before, event.sequence, cancel=True)] \
            if event.before["status"] == "active" else None
        repository.store(self.db, [rules.Mail(f"{event.event_id}:{rules.BOOKING_CANCELLED}", event.before["user"],
                                              subject, body, rules.BOOKING_CANCELLED, cancel)])
        self.sender.wake()

    def _release_link(self, booking_id: str) -> str | None:
        """The signed "I'm not coming" link of the confirmation mail (SPEC §11); None without SECRET_KEY."""
        key = _release_key()
        return release_url(key, booking_id, self.settings.web_url) if key else None

    @consumes(BOOKING_RELEASED)
    def on_booking_released(self, event: BookingReleased) -> None:
        """SPEC §11: the holder is told their place was released (at the deadline, or by an admin
        or themselves from another device: every release is mailed, once per event)."""
        if not event.before:
            log.error("booking_released event %s without the booking: no mail", event.event_id)
            return
        subject, body = rules.booking_released_mail(event.before, event.check_in_deadline, event.automatic)
        cancel = self._invitation(event.after or event.before, event.sequence, cancel=True)
        repository.store(self.db, [rules.Mail(f"{event.event_id}:{rules.BOOKING_RELEASED}", event.before["user"],
                                              subject, body, rules.BOOKING_RELEASED, [cancel])])
        self.sender.wake()

    # ---------------------------------------------------------------- waitlist and ballot (SPEC §12, §13)

    @consumes(WAITLIST_EXPIRED)
    def on_waitlist_expired(self, event: WaitlistEvent) -> None:
        self._waitlist_ended(event, "expired")

    @consumes(WAITLIST_CANCELLED)
    def on_waitlist_cancelled(self, event: WaitlistEvent) -> None:
        self._waitlist_ended(event, "cancelled")

    def _waitlist_ended(self, event: WaitlistEvent, status: str) -> None:
        if not event.before:
            return
        subject, body = rules.waitlist_ended_mail(event.before, status, event.note)
        repository.store(self.db, [rules.Mail(f"{event.event_id}:{rules.WAITLIST_ENDED}", event.before["user"],
                                              subject, body, rules.WAITLIST_ENDED)])
        self.sender.wake()

    @consumes(BALLOT_DRAWN)
    def on_ballot_drawn(self, event: BallotDrawn) -> None:
        """SPEC §13: everyone who requested is told the result (a winner's mail is a confirmation)."""
        mails = []
        for result in event.results:
            booking = result.booking
            won = result.outcome == "won"
            subject, body = rules.ballot_result_mail(booking, result.outcome, result.position,
                                                     self._release_link(booking["id"]) if won else None)
            mails.append(rules.Mail(f"{event.event_id}:{booking['id']}", booking["user"], subject, body,
                                    rules.BALLOT_RESULT,
                                    [self._invitation(booking, result.sequence)] if won else None))
        if mails:
            repository.store(self.db, mails)
            self.sender.wake()

    @consumes(RECURRING_REFUSED)
    def on_recurring_refused(self, event: EventPayload) -> None:
        """SPEC §14: one summary a day of the occurrences that were refused."""
        refusals = (event.after or {}).get("refusals") or []
        if not refusals:
            return
        subject, body = rules.refusals_mail(refusals)
        repository.store(self.db, [rules.Mail(f"{event.event_id}:{rules.RECURRING_SUMMARY}", event.entity_id,
                                              subject, body, rules.RECURRING_SUMMARY)])
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
