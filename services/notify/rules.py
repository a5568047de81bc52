"""Pure notify rules: message text, MIME building, retry backoff, where mail goes (no I/O)."""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

from obcommon.config import Env

LOGIN_CODE = "login_code"
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0


def login_code_mail(code: str, ttl_minutes: int) -> tuple[str, str]:
    """Subject and text body of the sign-in code email (SPEC §2)."""
    unit = "minute" if ttl_minutes == 1 else "minutes"
    body = (
        f"Your Office Booker sign-in code is: {code}\n\n"
        f"It is valid for {ttl_minutes} {unit} and can be used once.\n\n"
        "If you did not ask to sign in, you can ignore this email.\n"
    )
    return "Your Office Booker sign-in code", body


def build_message(from_address: str, to: str, subject: str, body: str,
                  attachments: list[dict] | None = None, message_id: str | None = None) -> Message:
    """A text email (UTF-8); attachments are `{filename, content_type, content}` (text for text/*
    types, base64 otherwise), e.g. an iCalendar file for a booking confirmation.

    Built with the `email.mime` classes: `EmailMessage`'s default policy parses and re-validates
    every header it is given, which made building a confirmation cost ~1.3 ms against ~0.3 ms
    (docs/benchmarks.md, notify's profile); the bytes on the wire are standard MIME either way."""
    text = MIMEText(body, "plain", "utf-8")
    msg: Message = text
    if attachments:
        msg = MIMEMultipart("mixed")
        msg.attach(text)
        for att in attachments:
            maintype, _, subtype = att["content_type"].partition(";")[0].strip().partition("/")
            if maintype == "text":
                part: Message = MIMEText(att["content"], subtype, "utf-8")
                for param in att["content_type"].split(";")[1:]:
                    name, sep, value = param.strip().partition("=")
                    if sep and name.lower() != "charset":  # always utf-8
                        part.set_param(name, value.strip('"'))
            else:
                part = MIMEBase(maintype, subtype)
                part.set_payload(base64.b64decode(att["content"]))
                encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=att["filename"])
            msg.attach(part)
    msg["From"] = from_address
    msg["To"] = to
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id or make_msgid(domain=from_address.rpartition("@")[2] or None)
    return msg


def message_id(source_event_id: str, from_address: str) -> str:
    """The same Message-ID on every attempt, so a mail sent twice can be recognised."""
    local = re.sub(r"[^A-Za-z0-9_.-]", ".", source_event_id)[:64]
    return f"<ob.{local}@{from_address.rpartition('@')[2] or 'office-booker'}>"


def build_login_code_message(from_address: str, to: str, code: str, ttl_minutes: int) -> Message:
    subject, body = login_code_mail(code, ttl_minutes)
    return build_message(from_address, to, subject, body)


def backoff(attempts: int, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Seconds to wait after the `attempts`-th failure: base, 2*base, 4*base … capped."""
    return min(cap, base * 2 ** min(max(attempts - 1, 0), 30))


@dataclass(frozen=True)
class Route:
    """Where mail goes. `dev` is true for the local development mailbox."""

    host: str
    port: int
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    dev: bool = False

    def __str__(self) -> str:
        return f"{'development mailbox' if self.dev else 'SMTP'} {self.host}:{self.port}"


def parse_host_port(value: str, default_port: int) -> tuple[str, int]:
    host, sep, port = value.strip().rpartition(":")
    if not sep:
        return value.strip(), default_port
    return host.strip("[]") or "127.0.0.1", int(port)


def choose_route(env: Env) -> Route | None:
    """SMTP_HOST if set; else, in development mode only (SPEC §17), DEV_MAILBOX (host:port), else
    None: development without a mailbox, where mail is only logged."""
    if env.smtp_host:
        return Route(env.smtp_host, env.smtp_port, env.smtp_starttls, env.smtp_username, env.smtp_password)
    if not env.local_development:
        raise ValueError("SMTP_HOST must be set in production mode")  # obcommon.launch refuses first
    if env.dev_mailbox:
        host, port = parse_host_port(env.dev_mailbox, 1025)
        return Route(host, port, dev=True)
    return None


# ------------------------------------------------------------------------------ booking mail


@dataclass(frozen=True)
class Mail:
    """One mail to store: `source_id` is unique per mail (the event id, suffixed with the kind when
    one event yields several), so a redelivered event never mails twice."""

    source_id: str
    to: str
    subject: str
    body: str
    kind: str
    attachments: list[dict] | None = None


BOOKING_CONFIRMATION = "booking_confirmation"
BOOKING_CANCELLED = "booking_cancelled"
BOOKING_RELEASED = "booking_released"
REASON_NOTIFICATION = "reason_notification"


def _day_label(day: str) -> str:
    from datetime import date

    return date.fromisoformat(day).strftime("%A %d %B %Y")


def booking_confirmation_mail(booking: dict, booked_by: str, release_link: str | None = None) -> tuple[str, str]:
    day = _day_label(booking["date"])
    office = booking["office"]["name"]
    lines = [f"You have a place at {office} on {day}" + (", with a parking space." if booking["parking"] else "."), ""]
    if booked_by != booking["user"]:
        lines += [f"Booked for you by {booked_by}.", ""]
    lines += ["Show your pass at the door: it is in Office Booker under your bookings.",
              f"You can cancel until {booking['cancellable_until']} (the start of that day at the office).", ""]
    if release_link:  # SPEC §11: on the day, free the place without signing in (the page asks to confirm)
        lines += ["Not coming on the day? Release your place for someone else:", release_link, ""]
    return f"Booking confirmed: {office}, {day}", "\n".join(lines)


def booking_cancelled_mail(booking: dict, cancelled_by: str, closure_note: str | None = None) -> tuple[str, str]:
    """The holder's notice; `closure_note` when the office closed that day (SPEC §15)."""
    day = _day_label(booking["date"])
    office = booking["office"]["name"]
    if closure_note:
        body = (f"{office} is closed on {day}, so your booking was cancelled by {cancelled_by}.\n\n"
                f"{closure_note}\n")
        return f"Office closed: {office}, {day}: booking cancelled", body
    body = (f"Your booking at {office} on {day} was cancelled by {cancelled_by}.\n\n"
            "If this is unexpected, contact them or your office administrator.\n")
    return f"Booking cancelled: {office}, {day}", body


def booking_released_mail(booking: dict, deadline: str | None, automatic: bool) -> tuple[str, str]:
    """SPEC §11: the holder's notice of a release. At the deadline the body's first line is
    exactly "Your place at <office> on <date> was released: no check-in by <HH:MM>" (<date> as
    YYYY-MM-DD)."""
    office = booking["office"]["name"]
    if automatic:
        body = (f"Your place at {office} on {booking['date']} was released: no check-in by {deadline}\n\n"
                "The place went to someone else who needed it. Check in at the door (scan the code at reception,"
                " or show your pass) before the deadline to keep a booking.\n")
        return f"Place released: {office}, {booking['date']}", body
    body = (f"Your place at {office} on {booking['date']} was released, as asked. Thank you for freeing it"
            " for someone else.\n")
    return f"Place released: {office}, {booking['date']}", body


def reason_notification_mail(booking: dict, reason: str | None) -> tuple[str, str]:
    """SPEC §4: subject with date, user and office; the body gives the reason or says none."""
    subject = f"Booking on {booking['date']} by {booking['user']} at {booking['office']['name']}"
    body = (f"{booking['user']} booked {booking['office']['name']} for {_day_label(booking['date'])}.\n\n"
            + (f"Reason given:\n{reason}\n" if reason and reason.strip() else "No reason was given.\n"))
    return subject, body


# ------------------------------------------------------------------------------ waitlist and ballot mail (SPEC §12, §13)

WAITLIST_PROMOTED = "waitlist_promoted"
WAITLIST_ENDED = "waitlist_ended"
BOOKING_REQUESTED = "booking_requested"
BALLOT_RESULT = "ballot_result"


def promoted_mail(booking: dict, release_link: str | None = None) -> tuple[str, str]:
    """SPEC §12: a waitlist entry became a booking."""
    day = _day_label(booking["date"])
    office = booking["office"]["name"]
    lines = [f"You have a place at {office} on {day}" + (", with a parking space." if booking["parking"] else "."),
             "", "A place freed up and you were next on the waitlist, so it is booked for you.",
             "Show your pass at the door: it is in Office Booker under your bookings.",
             f"You can cancel until {booking['cancellable_until']} (the start of that day at the office).", ""]
    if release_link:
        lines += ["Not coming on the day? Release your place for someone else:", release_link, ""]
    return f"You have a place: {office}, {day}", "\n".join(lines)


def waitlist_ended_mail(entry: dict, status: str, note: str | None = None) -> tuple[str, str]:
    """SPEC §12: an entry expired (its day's waitlist closed) or was cancelled (a closure)."""
    day = _day_label(entry["date"])
    office = entry["office"]["name"]
    if status == "expired":
        body = (f"No place became free at {office} on {day} before the waitlist closed, so your place in"
                " the queue has ended. Nothing is booked for you that day.\n")
        return f"Waitlist closed: {office}, {day}", body
    body = f"{office} is closed on {day}, so your place on its waitlist was cancelled.\n\n{note or ''}\n"
    return f"Office closed: {office}, {day}: waitlist cancelled", body


def request_mail(booking: dict, draw: str | None) -> tuple[str, str]:
    """SPEC §13: a ballot request was taken (`draw`: when it is drawn, office time)."""
    day = _day_label(booking["date"])
    office = booking["office"]["name"]
    body = (f"Your request for a place at {office} on {day}"
            + (" with a parking space" if booking["parking"] else "") + " is in the ballot.\n\n"
            + (f"Places are drawn on {draw}. " if draw else "")
            + "Those who came in least over the last 28 days go first; you will get the result by email.\n")
    return f"Request received: {office}, {day}", body


def ballot_result_mail(booking: dict, outcome: str, position: int | None,
                       release_link: str | None = None) -> tuple[str, str]:
    """SPEC §13: the result of a draw for one request."""
    day = _day_label(booking["date"])
    office = booking["office"]["name"]
    if outcome == "won":
        lines = [f"Good news: you have a place at {office} on {day}"
                 + (", with a parking space." if booking["parking"] else "."), "",
                 "Show your pass at the door: it is in Office Booker under your bookings.",
                 f"You can cancel until {booking['cancellable_until']} (the start of that day at the office).", ""]
        if release_link:
            lines += ["Not coming on the day? Release your place for someone else:", release_link, ""]
        return f"Ballot result: you have a place at {office}, {day}", "\n".join(lines)
    body = (f"There were more requests than places at {office} on {day}, and yours was not drawn this time.\n\n"
            f"You are number {position} on the waitlist: if a place frees up, it is booked for you and you"
            " will get an email.\n")
    return f"Ballot result: waitlisted for {office}, {day}", body


# ------------------------------------------------------------------------------ regular office days (SPEC §14)

RECURRING_SUMMARY = "recurring_summary"


def refusals_mail(refusals: list[dict]) -> tuple[str, str]:
    """SPEC §14: the day's summary of the regular days that could not be booked, and why."""
    lines = ["Some of your regular office days could not be booked:", ""]
    for r in refusals:
        lines.append(f"- {_day_label(r['date'])} at {r['office']['name']}: {r['message']}")
    lines += ["", "Nothing is retried automatically: book these days yourself if a place frees up, or join"
              " the waitlist of a full day. Your regular days are under \"Regular days\" in Office Booker.", ""]
    n = len(refusals)
    return f"Regular days: {n} day{'s' if n != 1 else ''} not booked", "\n".join(lines)
