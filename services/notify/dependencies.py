"""Notify's nameko dependencies: the SMTP transport and the sender of stored mail."""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable
from datetime import timedelta
from email.message import Message

import eventlet
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from prometheus_client import Counter

from obcommon.config import Env, load_config
from obcommon.service import Db

from . import repository, rules

log = logging.getLogger(__name__)

MAIL_SENT = Counter("ob_mail_sent_total", "Emails accepted by the mail server (or logged in development mode)", ["kind"])
MAIL_FAILURES = Counter("ob_mail_failures_total", "Failed attempts to send an email (each is retried)", ["kind"])


class NotConnected(Exception):
    """The transport could not open a connection to the SMTP server (nothing was sent)."""


class SmtpTransport:
    """Sends over one SMTP connection, kept open while mails keep coming (a sender's pass) and
    closed by `close()`: a burst of mails costs one TCP connect, EHLO, STARTTLS and login, not one
    each. A kept connection is checked with NOOP before it carries a mail; if the server has
    dropped it meanwhile, a new one is opened. A failure during a send is the caller's (the row is
    retried later, on a new connection): nothing here sends a mail twice."""

    timeout = 15.0

    def __init__(self, route: rules.Route):
        self.route = route
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        r = self.route
        smtp = smtplib.SMTP(r.host, r.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if r.starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            elif r.starttls and r.username:
                raise smtplib.SMTPNotSupportedError("the server offers no STARTTLS: the password is not sent in clear")
            if r.username:
                smtp.login(r.username, r.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp
            except (smtplib.SMTPException, OSError):
                pass
            self._smtp.close()
            self._smtp = None
        try:
            self._smtp = self._connect()
        except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected) as exc:  # "421 too many connections"
            raise NotConnected(f"{type(exc).__name__}: {exc}") from exc
        except smtplib.SMTPException:  # (an OSError too) a refused login, no STARTTLS: not about connections
            raise
        except OSError as exc:  # refused, unreachable, timed out
            raise NotConnected(f"{type(exc).__name__}: {exc}") from exc
        return self._smtp

    def send(self, msg: Message) -> None:
        smtp = self._connection()
        try:
            smtp.send_message(msg)
        except BaseException:
            # in an unknown state: never reused
            self._smtp = None
            smtp.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


class LogTransport:
    """Development mode without a mailbox: nothing is sent; the mail counts as sent."""

    def send(self, msg: Message) -> None:
        log.info("development mode: no SMTP_HOST or DEV_MAILBOX, not sending %r to %s", msg["Subject"], msg["To"])

    def close(self) -> None:
        pass


class Sender:
    """Sends due rows of the `mail` table, on up to one lane per transport at once.

    A lane claims a few due mails (`repository.claim_due`: one statement, `FOR UPDATE SKIP
    LOCKED`, their `next_attempt_at` pushed `CLAIM_SECONDS` ahead), so no other lane or replica
    takes them while they are being sent, and sends them one after the other on its own SMTP
    connection; no transaction stays open during an SMTP conversation. A burst is sent on every
    lane at once (one server round trip per SMTP command: one connection alone left notify ~20 s
    behind 100 bookings a second, issue 16). Once the SMTP server has accepted a mail, `sent_at`
    is committed, and retried in-process until the database answers: a database outage after the
    send never sends it again. A failed attempt pushes the row back by `rules.backoff` and stops
    the pass (every lane; their claimed mails are due again at once); the row stays until it is
    sent. What remains (docs/reliability.md): notify dying between the SMTP answer and that
    commit, or a database outage longer than the claim, sends the mail again, with the same
    Message-ID.
    """

    batch = 100  # mails per run at most (then the next run is spawned)
    claim_batch = 10  # mails a lane claims at once
    CLAIM_SECONDS = 60.0  # how long a claimed mail is left to its sender (the SMTP timeout is 15 s)

    def __init__(self, db: Db, transports: list, from_address: str, retry_base: float,
                 local_development: bool, spawn: Callable, sleep: Callable[[float], None] = eventlet.sleep):
        self.db = db
        self.transports = transports  # one per lane; each keeps its own connection during a pass
        self.from_address = from_address
        self.retry_base = retry_base
        self.local_development = local_development
        self._spawn = spawn
        self._sleep = sleep
        self._lock = Semaphore(1)
        self._again = False
        # The running pass, shared by its lanes (green threads: no lock needed between them):
        self._budget = 0  # mails it may still claim
        self._sent = 0
        self._stop = False  # a lane failed: the others stop before their next mail
        self._idle: list = []  # transports without a lane yet
        self._running = 0  # lanes sending
        self._lanes = eventlet.GreenPool(1)

    def _claim(self, limit: int = 1) -> list[dict]:
        """The next due mails (at most `limit`), claimed for CLAIM_SECONDS (committed)."""
        return [{"id": mail["id"], "kind": mail["kind"], "attempts": mail["attempts"],
                 "message": rules.build_message(
                     self.from_address, mail["to"], mail["subject"], mail["body"], mail["attachments"],
                     message_id=rules.message_id(mail["source_event_id"], self.from_address))}
                for mail in repository.claim_due(self.db, timedelta(seconds=self.CLAIM_SECONDS), limit)]

    def send_next(self) -> bool | None:
        """Send the next due mail: None if none is due, else whether it was sent."""
        claimed = self._claim()
        return self._send(self.transports[0], claimed[0]) if claimed else None

    def _send(self, transport, claimed: dict, alone: bool = True) -> bool | None:
        """Send one claimed mail; a failure keeps the row, due again after `rules.backoff`.
        None (nothing sent, no attempt counted): the lane could not open its connection while
        another lane is sending (the server takes no more connections from us): it retires."""
        mail_id, kind = claimed["id"], claimed["kind"]
        try:
            transport.send(claimed["message"])
        except Exception as exc:  # noqa: BLE001 - any failure: keep the row, retry later
            if isinstance(exc, NotConnected) and not alone:
                log.info("the SMTP server refused another connection (%s): sending on fewer", exc)
                return None
            attempts = claimed["attempts"] + 1
            delay = rules.backoff(attempts, self.retry_base)
            error = f"{type(exc).__name__}: {exc}"[:500]
            repository.record_failure(self.db, mail_id, attempts, timedelta(seconds=delay), error)
            MAIL_FAILURES.labels(kind).inc()
            log.warning("sending mail %s (%s) failed on attempt %d, retrying in %.1f s: %s",
                        mail_id, kind, attempts, delay, error)
            return False
        MAIL_SENT.labels(kind).inc()
        self._mark_sent(mail_id)
        log.info("mail %s (%s) sent", mail_id, kind)
        return True

    def _mark_sent(self, mail_id: int) -> None:
        """Commit that the mail went, however long the database takes to come back: sending it
        again would be a duplicate. The plaintext code (or booking details) is not kept."""
        delay = 0.2
        while True:
            try:
                repository.record_sent(self.db, mail_id)
                return
            except Exception as exc:  # noqa: BLE001 - database unreachable: retry, never resend
                log.warning("mail %s was sent but recording it failed, retrying in %.1f s: %r", mail_id, delay, exc)
                self._sleep(delay)
                delay = min(delay * 2, 2.0)

    def run(self) -> int:
        """Send what is due, at most `batch` mails, stopping at the first failure (the next tick
        retries). One pass at a time per process; a wake-up during a pass makes it look again; a
        pass that sent its `batch` starts the next one at once (not at the next tick: that capped
        a backlog at `batch` mails a second)."""
        self._again = True
        if not self._lock.acquire(blocking=False):
            return 0
        sent, failed = 0, False
        try:
            while self._again and sent < self.batch and not failed:
                self._again = False
                done, failed = self._pass(self.batch - sent)
                sent += done
        finally:
            self._lock.release()
        if sent >= self.batch and not failed:
            self._spawn(self.run, identifier="mail-sender-next")
        return sent

    def _pass(self, budget: int) -> tuple[int, bool]:
        """Up to `budget` mails: a lane on the first transport, and one more lane, up to one per
        transport, whenever a lane's claim came back full (a burst). Returns (sent, whether a
        lane failed)."""
        self._stop, self._budget, self._sent = False, budget, 0
        self._idle = list(self.transports[1:])
        self._lanes = eventlet.GreenPool(len(self.transports))
        self._lane(self.transports[0])
        self._lanes.waitall()
        return self._sent, self._stop

    def _lane(self, transport) -> None:
        """Claim and send on `transport` until nothing is due, the pass's budget is spent or a
        lane failed; what this lane claimed and did not send is released (due again at once)."""
        self._running += 1
        try:
            while not self._stop:
                wanted = min(self.claim_batch, self._budget)
                if wanted <= 0:
                    break
                self._budget -= wanted  # (taken before the claim's round trip: lanes share it)
                claimed = self._claim(wanted)
                self._budget += wanted - len(claimed)
                if not claimed:
                    break
                if len(claimed) == self.claim_batch and self._idle:  # more are due: another lane
                    self._lanes.spawn_n(self._lane, self._idle.pop())
                for i, mail in enumerate(claimed):
                    if self._stop:
                        repository.release_claims(self.db, [m["id"] for m in claimed[i:]])
                        break
                    sent = self._send(transport, mail, alone=self._running == 1)
                    if sent is None:  # no connection for this lane: the others go on, no more lanes
                        self._idle.clear()
                        repository.release_claims(self.db, [m["id"] for m in claimed[i:]])
                        self._budget += len(claimed) - i  # (for the other lanes to claim again)
                        return
                    if not sent:
                        self._stop = True
                        repository.release_claims(self.db, [m["id"] for m in claimed[i + 1:]])
                        break
                    self._sent += 1
        except Exception as exc:  # noqa: BLE001 - database unreachable: the timer tries again
            self._stop = True
            log.warning("mail sender pass failed, will retry: %r", exc)
        finally:
            self._running -= 1
            transport.close()  # the connection served this pass's burst

    def wake(self) -> None:
        """Send soon, without waiting for the timer (called after a mail is stored)."""
        if self._lock.locked():
            self._again = True
        else:
            self._spawn(self.run, identifier="mail-sender-wake")


class MailSender(DependencyProvider):
    """Where mail goes (rules.choose_route) and the `Sender` workers use."""

    def __init__(self, db_attr: str = "db"):
        self.db_attr = db_attr

    def setup(self) -> None:
        env = Env.from_environ()
        self.route = rules.choose_route(env)
        transports = ([SmtpTransport(self.route) for _ in range(env.smtp_connections)] if self.route
                      else [LogTransport()])
        retry_base = float(os.environ.get("NOTIFY_RETRY_BASE_SECONDS") or rules.BACKOFF_BASE_SECONDS)
        db_provider = next(d for d in self.container.dependencies if getattr(d, "attr_name", None) == self.db_attr)
        self.sender = Sender(Db(db_provider), transports, load_config().from_address, retry_base,
                             env.local_development, self.container.spawn_managed_thread)

    def start(self) -> None:
        log.info("mail goes to %s", self.route or "the log only (development mode, no DEV_MAILBOX)")

    def get_dependency(self, worker_ctx) -> Sender:
        return self.sender
