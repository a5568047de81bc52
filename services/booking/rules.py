"""Pure booking rules (SPEC §4, §5): every decision the booking service takes, with no database.

The repository (`repository.py`) locks, loads a snapshot, calls a rule here and writes what the
rule decided; `service.py` is the entry points. A rule raises the SPEC error of the first rule
that fails (`exceptions.py`, exact messages) or returns a small frozen decision. Every function
takes the current time as an argument (the injectable clock of the unit tests); the service
passes the real time.

- `decide`: rules 5–11 of SPEC §4's table, in order (the gateway checks 1–4) → `NewBooking`.
- `admit`: rules 5–7 alone, what can be decided before any lock is taken.
- `decide_cancel`: who may cancel until when → the counter change.
- `pass_status`: a pass at the door (SPEC §5).
- `effective_day` / `decide_day`: a day's override of the office's capacity, or its closure (SPEC §15).
- `bookable_window` / `bookable_days`: rule 6's window, also used by the gateway.
- `deadline_at` / `release_due_days` / `decide_release` / `door_check_in` / `no_show_rate`:
  check-in and release of no-shows (SPEC §11).
- `decide_join` / `promote` / `waitlist_expires_at`: the waitlist of a full day (SPEC §12).
- `draw_at` / `is_request` / `draw_order` / `draw`: the ballot of an oversubscribed day (SPEC §13;
  the algorithm is written out in docs/ballot.md, and `tools/replay_ballot.py` recomputes a draw).
- `decide_pattern` / `occurrences` / `decide_range_cancel`: regular office days and the range
  cancel (SPEC §14).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from obcommon.emails import normalize_email

from .exceptions import (
    AlreadyWaitlisted,
    BookingForbidden,
    BookingNotFound,
    DateOutOfRange,
    DayChangeInvalid,
    DuplicateBooking,
    InvalidRange,
    NoBookingToday,
    OfficeClosed,
    OfficeFull,
    OfficeNotFound,
    ParkingFull,
    PlacesAvailable,
    ReasonRequired,
    RecurringInvalid,
    ReleaseBeforeDay,
    TooLateToCancel,
    TooLateToRelease,
    UserQuotaExceeded,
    WaitlistClosed,
)

MAX_RANGE_DAYS = 400
IDEMPOTENCY_TTL = timedelta(hours=24)  # SPEC §4: an Idempotency-Key is kept 24 hours


# ------------------------------------------------------------------------------ what decisions read


@dataclass(frozen=True)
class Settings:
    """The configuration a booking decision depends on (SPEC §7)."""
    advance_booking_days: int = 14
    default_weekly_quota: int = 1
    reason_to_book_required: bool = False

    @classmethod
    def of(cls, config) -> Settings:
        """From the service's AppConfig."""
        return cls(config.advance_booking_days, config.default_weekly_quota, config.reason_to_book_required)


@dataclass(frozen=True)
class Office:
    """An office as booking's read model knows it (SPEC §3)."""
    id: str
    name: str
    quota: int
    parking_quota: int
    timezone: str
    retired: bool = False
    check_in_deadline: str | None = None  # "HH:MM" office time (SPEC §11); None: no automatic release
    allocation: str = "first_come"  # SPEC §13: "first_come" | "ballot"
    ballot_draw_days_before: int = 7
    ballot_draw_time: str = "12:00"  # "HH:MM" office time


@dataclass(frozen=True)
class Counts:
    """One office-day's counters: places and car spaces held by active bookings; `version` grows
    with every change so readers can order updates."""
    booked: int = 0
    booked_parking: int = 0
    version: int = 0

    def changed(self, change: CounterChange) -> Counts:
        return Counts(self.booked + change.places, self.booked_parking + change.parking, self.version + 1)


@dataclass(frozen=True)
class CounterChange:
    """What a decision does to its office-day's counters."""
    places: int
    parking: int


@dataclass(frozen=True)
class Held:
    """One of the user's active bookings (office id and day)."""
    office: str
    day: date


@dataclass(frozen=True)
class Request:
    """A booking request that passed the gateway's rules 1–4."""
    user: str
    office: str
    day: date
    parking: bool = False
    reason: str | None = None

    @classmethod
    def of(cls, request: dict) -> Request:
        """From the RPC's request dict (ValueError for a date that is not ISO)."""
        reason = request.get("reason")
        return cls(user=normalize_email(str(request["user"])), office=str(request["office"]),
                   day=date.fromisoformat(str(request["date"])), parking=bool(request.get("parking") or False),
                   reason=reason if isinstance(reason, str) else None)


@dataclass(frozen=True)
class Override:
    """An admin's override of one office-day (SPEC §15): a quota or parking quota of its own
    (None: the office's), closed or not, and a note shown to users."""
    quota: int | None = None
    parking_quota: int | None = None
    closed: bool = False
    note: str | None = None

    def is_empty(self) -> bool:
        return self == Override()

    def as_dict(self) -> dict:
        return {"quota": self.quota, "parking_quota": self.parking_quota, "closed": self.closed, "note": self.note}


@dataclass(frozen=True)
class Day:
    """The effective capacity of one office-day: the office's, or its override's."""
    quota: int
    parking_quota: int
    closed: bool = False
    note: str | None = None


def effective_day(office: Office, override: Override | None) -> Day:
    """What an office-day offers: the override's quotas where it sets them, else the office's."""
    if override is None:
        return Day(office.quota, office.parking_quota)
    return Day(office.quota if override.quota is None else override.quota,
               office.parking_quota if override.parking_quota is None else override.parking_quota,
               override.closed, override.note)


@dataclass(frozen=True)
class Snapshot:
    """Everything a booking decision reads, as the repository loaded it under its locks.

    `office` is None when the read model does not know the office; `user_quota` None means the
    default weekly quota; `counts` are the office-day's counters; `week` the user's active and
    requested bookings of the request's Monday–Sunday week, in every office; `override` the day's
    override (SPEC §15), read under the office-day lock; `drawn` whether a ballot office's day has
    been drawn (SPEC §13: until then it takes requests, also once its draw time has come)."""
    office: Office | None
    user_quota: int | None = None
    auto_approved: bool = False
    counts: Counts = Counts()
    week: tuple[Held, ...] = ()
    override: Override | None = None
    drawn: bool = False


@dataclass(frozen=True)
class NewBooking:
    """Rule 12: the booking to write, and the office-day's counters once it is written."""
    user: str
    office: Office
    day: date
    parking: bool
    counts: Counts
    reason_required: bool  # rule 7 applied: the booking is mailed to facilities
    reason: str | None  # what the mail says (trimmed); None unless required
    requested: bool = False  # SPEC §13: a ballot request (status `requested`), the counters unchanged


# ------------------------------------------------------------------------------ creation (SPEC §4)


def admit(request: Request, snapshot: Snapshot, settings: Settings, now: datetime) -> Office:
    """Rules 5–7, which read only the office and the user's settings: the repository checks them
    before taking any lock. Returns the office."""
    office = snapshot.office
    if office is None or office.retired:  # rule 5
        raise OfficeNotFound()
    first, last = bookable_window(now, office.timezone, settings.advance_booking_days)
    if not first <= request.day <= last:  # rule 6
        raise DateOutOfRange()
    if reason_required(settings, snapshot) and not (request.reason and request.reason.strip()):  # rule 7
        raise ReasonRequired()
    return office


def reason_required(settings: Settings, snapshot: Snapshot) -> bool:
    return settings.reason_to_book_required and not snapshot.auto_approved


def decide(request: Request, snapshot: Snapshot, settings: Settings, now: datetime) -> NewBooking:
    """SPEC §4 rules 5–11 in the table's order: the first one broken raises its error; otherwise
    (rule 12) the booking to write. A closed day (SPEC §15) is refused right after rule 8; rules 9
    and 10 use the day's effective quotas (its override's, else the office's). A ballot office's
    day not drawn yet (SPEC §13) is requested: capacity (rules 9, 10) is not checked and the
    counters do not change; rule 11 counts active and requested bookings."""
    office = admit(request, snapshot, settings, now)
    if any(h.office == office.id and h.day == request.day for h in snapshot.week):  # rule 8
        raise DuplicateBooking()
    day = effective_day(office, snapshot.override)
    if day.closed:  # SPEC §15: right after rule 8 (a closed day takes no requests either)
        raise OfficeClosed()
    requested = is_request(office, snapshot.drawn)
    if not requested:
        if snapshot.counts.booked >= day.quota:  # rule 9
            raise OfficeFull()
        if request.parking and snapshot.counts.booked_parking >= day.parking_quota:  # rule 10
            raise ParkingFull()
    if len(snapshot.week) >= weekly_quota(snapshot.user_quota, settings):  # rule 11
        raise UserQuotaExceeded()
    required = reason_required(settings, snapshot)
    counts = snapshot.counts if requested else snapshot.counts.changed(CounterChange(1, 1 if request.parking else 0))
    return NewBooking(user=request.user, office=office, day=request.day, parking=request.parking, counts=counts,
                      reason_required=required, reason=(request.reason or "").strip() if required else None,
                      requested=requested)


def weekly_quota(user_quota: int | None, settings: Settings) -> int:
    """Rule 11's quota: the user's own when a System Admin set one, else the default."""
    return user_quota if user_quota is not None else settings.default_weekly_quota


# ------------------------------------------------------------------------------ day overrides (SPEC §15)

OVERRIDE_DAYS_AHEAD = 366  # how far ahead a day may be overridden (a closure planned a year out)
NOTE_MAX = 500
UNSET = object()  # a field the PUT did not send: unchanged


@dataclass(frozen=True)
class DayChange:
    """PUT /api/offices/{id}/days/{date}: the fields sent (UNSET: not sent, so unchanged)."""
    quota: object = UNSET
    parking_quota: object = UNSET
    closed: object = UNSET
    note: object = UNSET
    cancel_existing: bool = False

    @classmethod
    def of(cls, fields: dict) -> DayChange:
        known = ("quota", "parking_quota", "closed", "note")
        return cls(**{k: fields[k] for k in known if k in fields},
                   cancel_existing=bool(fields.get("cancel_existing") or False))


@dataclass(frozen=True)
class DayDecision:
    """What a day change writes: the override (None: removed) and whether that day's active
    bookings are cancelled (closing with cancel_existing)."""
    override: Override | None
    cancel_existing: bool


def override_window(now: datetime, timezone: str) -> tuple[date, date]:
    """The days an admin may override: the office's today … OVERRIDE_DAYS_AHEAD days ahead (past
    days are history; a closure can be planned well beyond the bookable window)."""
    today = office_today(now, timezone)
    return today, today + timedelta(days=OVERRIDE_DAYS_AHEAD)


def decide_day(office: Office | None, day: date, current: Override | None, change: DayChange,
               now: datetime) -> DayDecision:
    """SPEC §15: set or change one office-day's override. Absent fields keep the current override's
    values; `quota`/`parking_quota` null means the office's own. An override that overrides nothing
    is removed. Lowering below what is booked keeps the bookings (the counters just refuse new ones).
    Errors (400, each naming its field): unknown office, a day outside `override_window`, a quota
    outside 0–100000 or a negative parking quota, a note over NOTE_MAX characters, cancel_existing
    on a day that is not closed."""
    if office is None:
        raise OfficeNotFound()
    first, last = override_window(now, office.timezone)
    if not first <= day <= last:
        raise DayChangeInvalid(f"Invalid date: the day must be between {first} and {last}")
    base = current or Override()

    def pick(name: str):
        value = getattr(change, name)
        return getattr(base, name) if value is UNSET else value

    quota, parking, closed, note = pick("quota"), pick("parking_quota"), pick("closed"), pick("note")
    if quota is not None and not (isinstance(quota, int) and not isinstance(quota, bool) and 0 <= quota <= 100000):
        raise DayChangeInvalid("Invalid quota: a whole number from 0 to 100000, or null for the office's")
    if parking is not None and not (isinstance(parking, int) and not isinstance(parking, bool) and parking >= 0):
        raise DayChangeInvalid("Invalid parking_quota: a whole number ≥ 0, or null for the office's")
    if not isinstance(closed, bool):
        raise DayChangeInvalid("Invalid closed: true or false")
    if note is not None:
        if not isinstance(note, str) or len(note) > NOTE_MAX or any(ord(c) < 32 and c not in "\n\t" for c in note):
            raise DayChangeInvalid(f"Invalid note: text of at most {NOTE_MAX} characters")
        note = note.strip() or None
    if change.cancel_existing and not closed:
        raise DayChangeInvalid("Invalid cancel_existing: only when the day is closed")
    override = Override(quota, parking, closed, note)
    return DayDecision(None if override.is_empty() else override, change.cancel_existing)


# ------------------------------------------------------------------------------ cancellation, passes


@dataclass(frozen=True)
class Stored:
    """A stored booking, with its office's time zone, as cancellation and door checks read it."""
    user: str
    office: str
    day: date
    parking: bool
    active: bool
    timezone: str
    released: bool = False  # status `released` (SPEC §11); neither active nor released: cancelled
    check_in_deadline: str | None = None  # the office's, "HH:MM"
    status: str = ""  # the stored status when it is none of the above: requested, waitlisted (SPEC §13)

    @property
    def requested(self) -> bool:
        return self.status == "requested"


@dataclass(frozen=True)
class Caller:
    """Who asks to cancel: their address and the offices whose bookings they manage."""
    email: str
    system_admin: bool = False
    offices: tuple[str, ...] = ()

    @classmethod
    def of(cls, caller: dict) -> Caller:
        """From the RPC's caller dict {email, system_admin, offices}."""
        return cls(normalize_email(caller["email"]), bool(caller.get("system_admin")),
                   tuple(caller.get("offices") or ()))


def decide_cancel(booking: Stored | None, caller: Caller, now: datetime) -> CounterChange:
    """SPEC §4 cancellation: unknown or already cancelled 404; someone else's without rights 403;
    the owner until the day starts, a System Admin or an Office Admin of the office until it ends
    (also for their own bookings), else 403 "No longer able to cancel booking". Returns what the
    cancellation does to the office-day's counters. A ballot request (SPEC §13) is cancelled the
    same way and changes no counter."""
    if booking is None or not (booking.active or booking.requested):
        raise BookingNotFound()
    as_admin = caller.system_admin or booking.office in caller.offices
    if booking.user != caller.email and not as_admin:
        raise BookingForbidden()
    if not can_cancel(now, booking.day, booking.timezone, as_admin):
        raise TooLateToCancel()
    if booking.requested:
        return CounterChange(0, 0)
    return CounterChange(-1, -1 if booking.parking else 0)


def pass_status(booking: Stored, door_office: str, now: datetime) -> str:
    """SPEC §5 at the door of `door_office`: cancelled, wrong_office, wrong_day (the office's
    today) or ok, in that order."""
    if not booking.active:
        return "released" if booking.released else booking.status or "cancelled"
    if booking.office != door_office:
        return "wrong_office"
    if booking.day != office_today(now, booking.timezone):
        return "wrong_day"
    return "ok"


# ------------------------------------------------------------------------------ dates and windows


def parse_dates(values: list[str]) -> list[date]:
    """ISO dates, at most MAX_RANGE_DAYS of them; ValueError otherwise."""
    if len(values) > MAX_RANGE_DAYS:
        raise ValueError("too many dates")
    return [date.fromisoformat(v) for v in values]


def parse_day(value: str | None) -> date | None:
    """An optional `from`/`to` filter: None when absent, InvalidRange "Invalid date format" when bad."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidRange("Invalid date format") from None


def office_today(now: datetime, timezone: str) -> date:
    """"Today" for an office is the date in its time zone (SPEC §3)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def bookable_window(now: datetime, timezone: str, advance_days: int) -> tuple[date, date]:
    """today … today + advance_booking_days − 1, weekends included (rule 6)."""
    today = office_today(now, timezone)
    return today, today + timedelta(days=advance_days - 1)


def bookable_days(now: datetime, timezone: str, advance_days: int) -> list[date]:
    """Every day of the bookable window, in order (the slots of GET /api/offices/{id})."""
    first, _ = bookable_window(now, timezone, advance_days)
    return [first + timedelta(days=i) for i in range(advance_days)]


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


def visible_range(now: datetime, timezones: list[str], retention_days: int, advance_days: int) -> tuple[date, date]:
    """The stats range: today − retention … the end of the bookable window, over the offices'
    zones (an office east of the others has its today, and its window, a day later)."""
    ranges = [default_list_range(now, tz, retention_days, advance_days) for tz in timezones] or \
        [default_list_range(now, "UTC", retention_days, advance_days)]
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def clamp_range(visible: tuple[date, date], date_from: date | None, date_to: date | None) -> list[date]:
    """The days of [from, to] inside the visible range (from/to default to its ends); [] when the
    two do not overlap."""
    start = max(visible[0], date_from) if date_from else visible[0]
    end = min(visible[1], date_to) if date_to else visible[1]
    return [start + timedelta(days=i) for i in range((end - start).days + 1)] if start <= end else []


def freed_by(active: list[tuple[str, date, bool]]) -> dict[tuple[str, date], CounterChange]:
    """What deleting these active bookings (office, day, parking) does to each office-day's
    counters: every one frees its place, and its car space if it had one (erasure, SPEC §4)."""
    freed: dict[tuple[str, date], CounterChange] = {}
    for office, day, parking in active:
        was = freed.get((office, day), CounterChange(0, 0))
        freed[(office, day)] = CounterChange(was.places - 1, was.parking - (1 if parking else 0))
    return freed


# ------------------------------------------------------------------------------ check-in and release (SPEC §11)

RELEASE_LOOKBACK_DAYS = 7  # a deadline missed while the system was down is applied up to a week late


def deadline_at(day: date, timezone: str, deadline: str | None) -> datetime | None:
    """The moment of `day`'s check-in deadline ("HH:MM" office time), None without a deadline. A
    local time that does not exist (a DST gap) resolves as zoneinfo does (fold 0: the later
    offset), a repeated one to its first occurrence."""
    if not deadline:
        return None
    hours, minutes = (int(part) for part in deadline.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(timezone))


def release_due_days(now: datetime, timezone: str, deadline: str | None, since: datetime | None,
                     lookback_days: int = RELEASE_LOOKBACK_DAYS) -> list[date]:
    """The office's days whose deadline has come (at or before `now`, never early) and falls after
    `since` (when the office's copy got this deadline: a new deadline never releases past days),
    going back at most `lookback_days`: the release job releases these days' no-shows, late when
    the system was down at the deadline. Oldest first."""
    if not deadline:
        return []
    today = office_today(now, timezone)
    days = []
    for back in range(lookback_days, -1, -1):
        day = today - timedelta(days=back)
        moment = deadline_at(day, timezone, deadline)
        if moment is not None and moment <= now and (since is None or moment > since):
            days.append(day)
    return days


def decide_release(booking: Stored | None, caller: Caller, now: datetime) -> CounterChange | None:
    """"I'm not coming" (SPEC §11): unknown or cancelled 404; someone else's without rights 403;
    before the day 403 (cancel instead); after the day 403 "No longer able to release booking"; the
    owner until the deadline (all day without one), admins of the office all day. Returns the
    counter change, or None when the booking is already released (the same answer again)."""
    if booking is None or not (booking.active or booking.released):
        raise BookingNotFound()
    as_admin = caller.system_admin or booking.office in caller.offices
    if booking.user != caller.email and not as_admin:
        raise BookingForbidden()
    if booking.released:
        return None
    today = office_today(now, booking.timezone)
    if booking.day > today:
        raise ReleaseBeforeDay()
    if booking.day < today:
        raise TooLateToRelease()
    deadline = deadline_at(booking.day, booking.timezone, booking.check_in_deadline)
    if not as_admin and deadline is not None and now >= deadline:
        raise TooLateToRelease()
    return CounterChange(-1, -1 if booking.parking else 0)


def release_until(day: date, timezone: str, deadline: str | None, as_admin: bool) -> datetime:
    """Until when the owner (or an admin) may release a booking of `day`."""
    moment = deadline_at(day, timezone, deadline)
    if as_admin or moment is None:
        return end_of_day(day, timezone)
    return moment


def door_check_in(booking: Stored | None) -> bool:
    """A check-in at the door (door code) of the caller's booking found for today at that office:
    True for the first check-in; False when it is already checked in (the same answer, first time);
    no active booking (none, cancelled, released) is 404 "No booking today at this office"."""
    if booking is None or not booking.active:
        raise NoBookingToday()
    return True


def day_outcomes(bookings: list[tuple[str, bool, datetime]], deadline: datetime | None,
                 now: datetime) -> tuple[int, int, float | None]:
    """Stats of one office-day (SPEC §11) from its bookings (status, checked in, created_at):
    (checked_in, released, no_show_rate). A booking reached its deadline when the day's deadline
    has come, it was made before it and was not cancelled; the rate is the released share of
    those (None when none did: no deadline, not yet, or no such booking)."""
    checked_in = sum(1 for status, checked, _ in bookings if checked and status != "cancelled")
    released = sum(1 for status, _, _ in bookings if status == "released")
    if deadline is None or deadline > now:
        return checked_in, released, None
    reached = [status for status, _, created in bookings if status != "cancelled" and created < deadline]
    return checked_in, released, no_show_rate(sum(1 for s in reached if s == "released"), len(reached))


def no_show_rate(released: int, reached_deadline: int) -> float | None:
    """Stats (SPEC §11): released / bookings that reached their deadline; None when none did."""
    if reached_deadline <= 0:
        return None
    return round(released / reached_deadline, 4)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------ waitlist (SPEC §12)


def waitlist_expires_at(day: date, timezone: str, deadline: str | None) -> datetime:
    """When the waitlist of an office-day closes: the office's check-in deadline that day, or the
    start of the day when it has none (SPEC §12). Its entries expire then."""
    return deadline_at(day, timezone, deadline) or start_of_day(day, timezone)


def decide_join(request: Request, snapshot: Snapshot, settings: Settings, now: datetime,
                already_waiting: bool) -> Office:
    """SPEC §12: may the user queue for this office-day? Rules 5–8 as a booking, then 409 "Already
    on the waitlist", then a closed waitlist (the day's deadline, or its start, has come: 409
    "The waitlist for that day has closed"), then rule 11 (active and requested bookings), then
    409 "Places are available: book instead" unless a booking would be refused with rule 9 or 10
    or a closed day (on a ballot day not drawn yet, a booking is a request: book instead).
    Returns the office."""
    office = admit(request, snapshot, settings, now)
    if any(h.office == office.id and h.day == request.day for h in snapshot.week):  # rule 8
        raise DuplicateBooking()
    if already_waiting:
        raise AlreadyWaitlisted()
    if now >= waitlist_expires_at(request.day, office.timezone, office.check_in_deadline):
        raise WaitlistClosed()
    if len(snapshot.week) >= weekly_quota(snapshot.user_quota, settings):  # rule 11
        raise UserQuotaExceeded()
    day = effective_day(office, snapshot.override)
    if is_request(office, snapshot.drawn) and not day.closed:
        raise PlacesAvailable()
    full = day.closed or snapshot.counts.booked >= day.quota or (
        request.parking and snapshot.counts.booked_parking >= day.parking_quota)
    if not full:
        raise PlacesAvailable()
    return office


@dataclass(frozen=True)
class Waiting:
    """One waiting entry as a promotion reads it (under the office-day and user-week locks):
    `held` whether the user already holds an active or requested booking at that office that day
    (rule 8); `week_held` their active and requested bookings of that week (rule 11); `quota`
    their weekly quota."""
    id: str
    user: str
    parking: bool
    held: bool = False
    week_held: int = 0
    quota: int = 1

    @property
    def eligible(self) -> bool:
        return not self.held and self.week_held < self.quota


def promote(queue: list[Waiting], office: Office, day: Day, counts: Counts, expires_at: datetime,
            now: datetime) -> list[tuple[Waiting, Counts]]:
    """SPEC §12: who gets the free places of an office-day, in queue order. An entry is promoted
    when a place is free (and, if it asks for parking, a car space), and its user is eligible at
    this moment (rules 8 and 11); an ineligible entry, or a parking entry when the car park is
    full, keeps its place and the next one is tried. Nothing is promoted on a closed day, at a
    retired office, or once the waitlist has closed (`expires_at`). Returns each promoted entry
    with the counters after it."""
    if office.retired or day.closed or now >= expires_at:
        return []
    promoted = []
    for entry in queue:
        if counts.booked >= day.quota:
            break
        if not entry.eligible or (entry.parking and counts.booked_parking >= day.parking_quota):
            continue
        counts = counts.changed(CounterChange(1, 1 if entry.parking else 0))
        promoted.append((entry, counts))
    return promoted


# ------------------------------------------------------------------------------ ballot (SPEC §13)

BALLOT_HISTORY_DAYS = 28  # "office days in the previous 28 days"


def draw_at(office: Office, day: date) -> datetime | None:
    """The moment a ballot office's `day` is drawn: `ballot_draw_time` (office time) on the day
    `ballot_draw_days_before` days before it; None for a first-come office."""
    if office.allocation != "ballot":
        return None
    hours, minutes = (int(part) for part in office.ballot_draw_time.split(":"))
    return datetime.combine(day - timedelta(days=office.ballot_draw_days_before), time(hours, minutes),
                            tzinfo=ZoneInfo(office.timezone))


def is_request(office: Office, drawn: bool) -> bool:
    """Whether a booking is a ballot request (SPEC §13): at a ballot office, for a day whose draw
    has not run. The draw runs at its time (late after downtime, and for a day nobody requested
    too): until it has run, requests are still taken, so nobody books first-come ahead of it."""
    return office.allocation == "ballot" and not drawn


def draw_due(office: Office, day: date, now: datetime) -> bool:
    """Whether the draw of a ballot office's `day` is due (its moment has come)."""
    moment = draw_at(office, day)
    return moment is not None and now >= moment


def history_window(draw_moment: datetime, timezone: str) -> tuple[date, date]:
    """The days whose office days count for a draw: the BALLOT_HISTORY_DAYS days before the draw's
    own (office-local) date."""
    draw_day = draw_moment.astimezone(ZoneInfo(timezone)).date()
    return draw_day - timedelta(days=BALLOT_HISTORY_DAYS), draw_day - timedelta(days=1)


@dataclass(frozen=True)
class BallotEntry:
    """One request in a draw: `office_days` the user's days with an active booking (any office,
    checked in or not) in `history_window`; `eligible` whether the user may still hold it (rule
    11: their active and requested bookings of that week within their quota)."""
    id: str
    parking: bool
    office_days: int
    eligible: bool = True


def tiebreak(seed: str, request_id: str) -> str:
    """The seeded random order among equal histories: SHA-256 of "<seed>:<request id>", hex."""
    return hashlib.sha256(f"{seed}:{request_id}".encode()).hexdigest()


def draw_order(entries: list[BallotEntry], seed: str) -> list[BallotEntry]:
    """Fewest office days first; ties by `tiebreak` (ascending)."""
    return sorted(entries, key=lambda e: (e.office_days, tiebreak(seed, e.id)))


@dataclass(frozen=True)
class DrawResult:
    order: tuple[BallotEntry, ...]  # the draw order
    winners: tuple[str, ...]  # request ids that became bookings
    counts: Counts  # the office-day's counters after the winners

    def outcome(self) -> dict[str, str]:
        won = set(self.winners)
        return {e.id: ("won" if e.id in won else "waitlisted") for e in self.order}


def draw(entries: list[BallotEntry], seed: str, day: Day, counts: Counts) -> DrawResult:
    """SPEC §13: in `draw_order`, a request wins when its user is eligible and a place is left
    (and, if it asks for parking, a car space); the others go to the waitlist in that order. A
    closed day has no place to give."""
    order = draw_order(entries, seed)
    winners = []
    for entry in order:
        if day.closed or not entry.eligible or counts.booked >= day.quota:
            continue
        if entry.parking and counts.booked_parking >= day.parking_quota:
            continue
        counts = counts.changed(CounterChange(1, 1 if entry.parking else 0))
        winners.append(entry.id)
    return DrawResult(tuple(order), tuple(winners), counts)


# ------------------------------------------------------------------------------ regular office days (SPEC §14)


@dataclass(frozen=True)
class Pattern:
    """A validated recurring pattern: ISO weekdays (1 = Monday … 7 = Sunday), parking, until."""
    office: str
    weekdays: tuple[int, ...]
    parking: bool = False
    until: date | None = None


def decide_pattern(fields: dict, office: Office | None, now: datetime) -> Pattern:
    """POST /api/recurring's body: a known, active office (400 "Office not found"); `weekdays` a
    non-empty list of distinct ISO weekdays 1–7; `parking` a boolean; `until` null or a date not
    before the office's today. Errors name their field (400)."""
    if office is None or office.retired:
        raise OfficeNotFound()
    weekdays = fields.get("weekdays")
    if not isinstance(weekdays, list) or not weekdays or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in weekdays):
        raise RecurringInvalid("Invalid weekdays: a non-empty list of ISO weekdays, 1 (Monday) to 7 (Sunday)")
    parking = fields.get("parking", False)
    if not isinstance(parking, bool):
        raise RecurringInvalid("Invalid parking: true or false")
    until = fields.get("until")
    if until is not None:
        try:
            until = date.fromisoformat(str(until)) if isinstance(until, str) and len(until) == 10 else None
        except ValueError:
            until = None
        if until is None:
            raise RecurringInvalid("Invalid until: a date YYYY-MM-DD, or null")
        if until < office_today(now, office.timezone):
            raise RecurringInvalid("Invalid until: the date has passed")
    return Pattern(office.id, tuple(sorted(set(weekdays))), parking, until)


def occurrences(pattern: Pattern, first: date, last: date) -> list[date]:
    """The pattern's dates in first … last (the office's bookable window): on its weekdays, up to
    `until`, in order. Dates are calendar dates of the office, so a DST change or a time zone
    never moves or doubles one."""
    end = min(last, pattern.until) if pattern.until else last
    return [first + timedelta(days=i) for i in range((end - first).days + 1)
            if (first + timedelta(days=i)).isoweekday() in pattern.weekdays]


def decide_range_cancel(bookings: list[tuple[str, Stored]], caller: Caller, now: datetime,
                        first: date, last: date) -> tuple[list[str], list[dict]]:
    """SPEC §14 range cancel: of the caller's own active and requested bookings in first … last,
    those they may still cancel (`decide_cancel`, as their owner), and the others kept with the
    reason. A range over MAX_RANGE_DAYS, or `from` after `to`, is 400."""
    if first > last:
        raise InvalidRange("Invalid date range: from is after to")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise InvalidRange(f"Invalid date range: at most {MAX_RANGE_DAYS} days")
    owner = Caller(caller.email)  # one's own bookings, by the owner's rules, whatever one's role
    cancel, kept = [], []
    for booking_id, booking in bookings:
        try:
            decide_cancel(booking, owner, now)
        except (TooLateToCancel, BookingNotFound, BookingForbidden) as exc:
            kept.append({"id": booking_id, "message": exc.message, "code": exc.code})
        else:
            cancel.append(booking_id)
    return cancel, kept
