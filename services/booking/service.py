"""Booking: bookings and quota enforcement (SPEC §4).

Every decision is one PostgreSQL transaction (see `repository.py`): capacity can never be
exceeded and the counters never drift from the bookings they count, whatever the concurrency.
Offices and per-user settings come from local read models kept current by the offices and
identity services' events, so a decision needs no further RPC.
"""
from __future__ import annotations

import logging
import os
import time

import eventlet
from nameko.timer import timer
from prometheus_client import Counter

from obcommon.db import utcnow
from obcommon.service import BaseService, Database, RpcProxy, command, consumes, rpc
from services.identity.contract import USER_CHANGED, USER_ERASED
from services.identity.schemas import UserChanged, UserErased
from services.offices.contract import OFFICE_CREATED, OFFICE_UPDATED, OfficeEvent

from . import repository, rules
from .contract import SERVICE
from .exceptions import BookingError, InvalidRange, OfficeNotFound
from .models import Base

log = logging.getLogger(__name__)
OFFICE_SYNC_SECONDS = 60
OFFICE_SYNC_RETRY_SECONDS = 5
# This process's knowledge of its offices read model (workers are per call; these are per process):
_known_offices: set[str] = set()  # ids seen in it (offices are never deleted)
_offices_synced_at = float("-inf")  # monotonic time of the last full sync that succeeded

DECISIONS = Counter("ob_booking_decisions_total", "Booking decisions by office and outcome", ["office", "outcome"])
CANCELLED = Counter("ob_bookings_cancelled_total", "Bookings cancelled by office", ["office"])
RELEASED = Counter("ob_bookings_released_total", "Bookings released by the check-in deadline job")
RELEASE_JOB_SECONDS = 5


def release_clock():
    """The release job's clock: the real time, shifted by RELEASE_CLOCK_SKEW_SECONDS (tests only:
    a deadline a few minutes ahead is passed for the job without waiting; unset in deployments)."""
    from datetime import timedelta

    return utcnow() + timedelta(seconds=float(os.environ.get("RELEASE_CLOCK_SKEW_SECONDS") or 0))


class BookingService(BaseService):
    name = SERVICE

    db = Database(Base)
    offices_rpc = RpcProxy("offices")

    # ---------------------------------------------------------------- decisions

    @rpc  # not a command: its Idempotency-Key replays it (docs/reliability.md)
    def create_booking(self, request: dict, caller: str, idempotency_key: str | None = None,
                       request_id: str | None = None) -> dict:
        """Rules 5–11 of SPEC §4 (the gateway checked 1–4). Raises the rule's error.

        `idempotency_key`: the client's (every answer is kept and repeated for 24 h);
        `request_id`: the gateway's name for a call without one (only a booking or request made is
        kept under it, so a call the broker delivers again answers that; a refusal is decided again)."""
        office_id = str(request.get("office"))
        self._ensure_office(office_id)
        try:
            booking, event = repository.create_booking(
                self.db, self.settings, request, caller, idempotency_key or request_id, utcnow(),
                keep_refusals=idempotency_key is not None or request_id is None)
        except BookingError as exc:
            # An unknown office id is user input: never a label value.
            DECISIONS.labels("unknown" if isinstance(exc, OfficeNotFound) else office_id, exc.reason).inc()
            raise
        if event is not None:
            DECISIONS.labels(office_id, "created").inc()
        return booking

    @command
    def cancel_booking(self, booking_id: str, caller: dict) -> dict:
        cancelled = repository.cancel_booking(self.db, self.settings, str(booking_id), caller, utcnow())
        CANCELLED.labels(cancelled["office"]).inc()
        return cancelled

    # ---------------------------------------------------------------- check-in and release (SPEC §11)

    @command
    def release_booking(self, booking_id: str, caller: dict) -> dict:
        """"I'm not coming": the booking's place is freed at once (rules.decide_release)."""
        return repository.release_booking(self.db, self.settings, str(booking_id), caller, utcnow())

    @command
    def check_in(self, user: str, office: str, actor: str) -> dict:
        """A door check-in (the gateway checked the door code): the user's booking today there."""
        return repository.check_in(self.db, str(user), str(office), str(actor), utcnow())

    @timer(interval=RELEASE_JOB_SECONDS, eager=True)
    def release_no_shows(self) -> None:
        """The release job (SPEC §11): every few seconds in every replica; exactly once per booking
        (see repository.release_due). A deadline missed while the service was down is applied at
        the first tick after start."""
        try:
            released = repository.release_due(self.db, release_clock())
        except Exception as exc:  # the database away: the next tick tries again
            log.info("release job deferred: %r", exc)
            return
        if released:
            RELEASED.inc(released)
            log.info("released %d bookings with no check-in by their office's deadline", released)

    # ---------------------------------------------------------------- waitlist (SPEC §12) and ballot (§13)

    @command
    def join_waitlist(self, request: dict, caller: str) -> dict:
        """Queue for a full or closed day (the gateway checked rules 1–4)."""
        self._ensure_office(str(request.get("office")))
        return repository.join_waitlist(self.db, self.settings, request, caller, utcnow())

    @rpc
    def list_waitlist(self, user: str | None = None, offices: list[str] | None = None, office: str | None = None,
                      date: str | None = None) -> list[dict]:
        return repository.list_waitlist(self.db, utcnow(), user=user, offices=offices, office=office, day=date)

    @command
    def leave_waitlist(self, entry_id: str, caller: dict) -> dict:
        return repository.leave_waitlist(self.db, str(entry_id), caller, utcnow())

    @timer(interval=RELEASE_JOB_SECONDS, eager=True)
    def queue_jobs(self) -> None:
        """Every few seconds in every replica (each effect exactly once: see the repository):
        waitlist entries expire when their day's waitlist closes, ballot days are drawn at their
        draw time, recurring occurrences are booked when their date enters the window (at the
        office's midnight) and refusals summarised; all catch up at the first tick after downtime."""
        now = release_clock()
        for job in (repository.expire_waitlist, lambda db, t: repository.draw_due_days(db, self.settings, t),
                    lambda db, t: repository.book_occurrences(db, self.settings, t), repository.summarise_refusals):
            try:
                job(self.db, now)
            except Exception as exc:  # the database away: the next tick tries again
                log.info("queue job deferred: %r", exc)

    # ---------------------------------------------------------------- regular days and calendars (SPEC §14)

    @command
    def create_pattern(self, fields: dict, user: str, caller: str) -> dict:
        """A recurring pattern (the gateway checked who may make it for `user`)."""
        self._ensure_office(str((fields or {}).get("office")))
        return repository.create_pattern(self.db, self.settings, dict(fields or {}), str(user), str(caller),
                                         release_clock())

    @rpc
    def list_patterns(self, user: str | None = None, offices: list[str] | None = None) -> list[dict]:
        return repository.list_patterns(self.db, utcnow(), user=user, offices=offices)

    @command
    def delete_pattern(self, pattern_id: str, caller: dict) -> None:
        repository.delete_pattern(self.db, str(pattern_id), caller, utcnow())

    @command
    def cancel_range(self, caller: dict, date_from: str | None, date_to: str | None,
                     office: str | None = None) -> dict:
        return repository.cancel_range(self.db, self.settings, caller, date_from, date_to, office, utcnow())

    @command
    def create_feed(self, user: str) -> str:
        return repository.create_feed(self.db, str(user), utcnow())

    @command
    def revoke_feed(self, user: str) -> None:
        repository.revoke_feed(self.db, str(user))

    @rpc
    def feed(self, token: str) -> str:
        return repository.feed(self.db, self.settings, str(token), utcnow())

    # ---------------------------------------------------------------- reads

    @rpc
    def get_booking(self, booking_id: str) -> dict:
        return repository.get_booking(self.db, str(booking_id))

    @command
    def verify_pass(self, booking_id: str, office: str, actor: str) -> dict:
        return repository.verify_pass(self.db, str(booking_id), str(office), actor, utcnow())

    @rpc
    def list_bookings(self, user: str | None = None, offices: list[str] | None = None,
                      office: str | None = None, date_from: str | None = None,
                      date_to: str | None = None, include_cancelled: bool = False) -> list[dict]:
        return repository.list_bookings(self.db, self.settings, utcnow(), user=user, offices=offices, office=office,
                                        date_from=date_from, date_to=date_to, include_cancelled=include_cancelled)

    @rpc
    def get_slots(self, office_id: str, dates: list[str]) -> list[dict]:
        try:
            days = rules.parse_dates(dates)
        except (TypeError, ValueError):
            raise InvalidRange() from None
        return repository.slots(self.db, office_id, days)

    # ---------------------------------------------------------------- read models

    @consumes(OFFICE_CREATED)
    def on_office_created(self, event: OfficeEvent) -> None:
        self._upsert_office(event)

    @consumes(OFFICE_UPDATED)
    def on_office_updated(self, event: OfficeEvent) -> None:
        self._upsert_office(event)

    def _upsert_office(self, event: OfficeEvent) -> None:
        if not event.after:  # the contract's `after` holds the office: without it there is nothing to copy
            log.error("%s event %s without the office: ignored", event.type, event.event_id)
            return
        repository.upsert_office(self.db, event.after, event.version, _at(event.at))
        if _raised(event.before, event.after, "quota", "parking_quota") or (
                (event.before or {}).get("retired") and not event.after.get("retired")):
            repository.promote_where(self.db, self.settings, utcnow(), office=event.after["id"])  # SPEC §12

    @consumes(USER_CHANGED)
    def on_user_changed(self, event: UserChanged) -> None:
        repository.upsert_user_settings(self.db, event.email, event.after)
        if event.after and event.after.get("active") is False and (event.before or {}).get("active", True):
            cancelled = repository.disable_user(self.db, self.settings, event.email, utcnow())  # SPEC §16
            log.info("account disabled: cancelled %d bookings and requests", cancelled)
        if _raised(event.before, event.after, "quota") or (event.after and event.after.get("quota") is None
                                                           and (event.before or {}).get("quota") is not None):
            repository.promote_where(self.db, self.settings, utcnow(), user=event.email)  # now eligible (rule 11)

    @timer(interval=OFFICE_SYNC_RETRY_SECONDS, eager=True)
    def sync_offices(self) -> None:
        """Catch up with offices created before this service's queues existed (first start).

        Every OFFICE_SYNC_SECONDS once it has succeeded; until then (offices not up yet, or too slow
        to answer) every OFFICE_SYNC_RETRY_SECONDS, so a failed first sync is not a minute of lag."""
        global _offices_synced_at
        if time.monotonic() - _offices_synced_at < OFFICE_SYNC_SECONDS:
            return
        try:
            with eventlet.Timeout(5):  # an RPC to a service not up yet would wait forever
                offices = self.offices_rpc.list_offices(include_retired=True, with_version=True)
            for office in offices:  # (a copy read before a change its event has brought is older: ignored)
                repository.upsert_office(self.db, office, office["version"])
            _offices_synced_at = time.monotonic()
        except (Exception, eventlet.Timeout) as exc:  # the next tick (or the events) will do
            log.info("office sync deferred: %r", exc)

    def _ensure_office(self, office_id: str) -> None:
        """Booking's copy of the offices may lag a just-created office: fetch it. Once known, a
        process skips this query for good. (An unknown office is left to the decision to refuse.)"""
        if office_id not in _known_offices:
            # read-model work of its own (outside a decision's transaction): concurrent decisions
            # for a new office must not queue behind the first one's commit
            if repository.office_known(self.db.outside(), office_id) or self._sync_office(office_id):
                _known_offices.add(office_id)

    def _sync_office(self, office_id: str) -> bool:
        try:
            with eventlet.Timeout(5):
                office = self.offices_rpc.get_office(office_id, with_version=True)
            repository.upsert_office(self.db.outside(), office, office["version"])
            return True
        except (Exception, eventlet.Timeout):  # unknown office (or offices unreachable): the decision says so
            return False

    # ---------------------------------------------------------------- retention

    @timer(interval=3600, eager=True)
    def purge_expired(self) -> None:
        """Retention: see repository.purge_expired (hourly, and at start)."""
        purged = repository.purge_expired(self.db, self.settings, utcnow())
        if any(purged.values()):
            log.info("retention: deleted %(bookings)d bookings, %(idempotency_keys)d idempotency keys", purged)

    # ---------------------------------------------------------------- admin

    @rpc
    def stats(self, offices: list[str] | None = None, date_from: str | None = None,
              date_to: str | None = None) -> list[dict]:
        """Every office x day of the visible range (clamped), zeros included (GET /api/stats)."""
        if isinstance(offices, str):
            offices = [offices]
        for office_id in repository.unknown_offices(self.db, offices or [])[:50]:
            with eventlet.Timeout(5, False):  # not in the read model yet: ask offices, but never hang on it
                self._sync_office(office_id)
        return repository.stats(self.db, self.settings, utcnow(), offices=offices, date_from=date_from, date_to=date_to)

    # ---------------------------------------------------------------- day overrides (SPEC §15)

    @command
    def set_day(self, office_id: str, date: str, fields: dict, actor: str) -> dict:
        """Set an office-day's quota / parking quota / closed / note (closing with cancel_existing
        cancels that day's bookings). The gateway checked the caller's rights."""
        self._ensure_office(str(office_id))
        return repository.set_day(self.db, self.settings, str(office_id), str(date), dict(fields or {}), actor,
                                  utcnow())

    @command
    def clear_day(self, office_id: str, date: str, actor: str) -> dict:
        """Remove an office-day's override: the office's own capacity again."""
        self._ensure_office(str(office_id))
        return repository.set_day(self.db, self.settings, str(office_id), str(date), {}, actor, utcnow(),
                                  remove=True)

    @consumes(USER_ERASED)
    def on_user_erased(self, event: UserErased) -> None:
        """An erased user's bookings, settings and idempotency keys go (SPEC §4)."""
        deleted = repository.erase_user_bookings(self.db, self.settings, event.email, event.pseudonym, event.actor,
                                            utcnow())
        log.info("erased %d bookings of %s", deleted, event.pseudonym)


def _raised(before: dict | None, after: dict | None, *fields: str) -> bool:
    """Whether an event's change raised one of these numbers (a place or a quota to give)."""
    if not before or not after:
        return False
    return any(isinstance(after.get(f), int) and isinstance(before.get(f), int) and after[f] > before[f]
               for f in fields)


def _at(value: str | None):
    """An event's `at` (ISO) as a datetime; None when unreadable."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


Service = BookingService
