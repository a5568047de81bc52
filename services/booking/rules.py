"""Pure booking rules (SPEC §4): the bookable window, weeks, cancellation deadlines.

Every function takes the current time as an argument (the injectable clock of the unit tests);
the service passes the real time.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_RANGE_DAYS = 400
IDEMPOTENCY_TTL = timedelta(hours=24)  # SPEC §4: an Idempotency-Key is kept 24 hours


def parse_dates(values: list[str]) -> list[date]:
    """ISO dates, at most MAX_RANGE_DAYS of them; ValueError otherwise."""
    if len(values) > MAX_RANGE_DAYS:
        raise ValueError("too many dates")
    return [date.fromisoformat(v) for v in values]


def office_today(now: datetime, timezone: str) -> date:
    """"Today" for an office is the date in its time zone (SPEC §3)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def bookable_window(now: datetime, timezone: str, advance_days: int) -> tuple[date, date]:
    """today … today + advance_booking_days − 1, weekends included (rule 6)."""
    today = office_today(now, timezone)
    return today, today + timedelta(days=advance_days - 1)


def week_of(day: date) -> tuple[date, date]:
    """The Monday–Sunday week containing `day` (rule 11)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def start_of_day(day: date, timezone: str) -> datetime:
    """Midnight at the start of `day` in the office's zone: the owner's cancellation deadline."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone))


def end_of_day(day: date, timezone: str) -> datetime:
    """Midnight at the end of `day` in the office's zone: the admins' cancellation deadline."""
    return start_of_day(day + timedelta(days=1), timezone)


def cancel_deadline(day: date, timezone: str, as_admin: bool) -> datetime:
    return end_of_day(day, timezone) if as_admin else start_of_day(day, timezone)


def can_cancel(now: datetime, day: date, timezone: str, as_admin: bool) -> bool:
    return now < cancel_deadline(day, timezone, as_admin)


def request_fingerprint(request: dict, key: bytes) -> str:
    """What an idempotent retry must repeat exactly (the validated request fields), as an HMAC
    under a key derived from SECRET_KEY: the reason to book is stored nowhere else (SPEC §4), so
    someone who reads the database cannot confirm a guessed reason from its fingerprint."""
    canonical = {k: request.get(k) for k in ("user", "office", "date", "parking", "reason")}
    return hmac.new(key, json.dumps(canonical, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def default_list_range(now: datetime, timezone: str, retention_days: int, advance_days: int) -> tuple[date, date]:
    """Listings and stats default to today − retention … the end of the bookable window."""
    today = office_today(now, timezone)
    return today - timedelta(days=retention_days), today + timedelta(days=advance_days - 1)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")
