"""Check-in and release rules (SPEC §11) with an injected clock, table-driven, no database."""
from datetime import UTC, date, datetime

import pytest

from obcommon.config import check_deadline
from services.booking import rules
from services.booking.exceptions import (
    BookingForbidden,
    BookingNotFound,
    NoBookingToday,
    ReleaseBeforeDay,
    TooLateToRelease,
)

UTC = UTC
DAY = date(2027, 3, 10)  # a Wednesday; London is UTC+0 then


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stored(*, user="ann@x.example", office="alpha", day=DAY, parking=True, status="active", deadline="10:00",
           zone="Europe/London") -> rules.Stored:
    return rules.Stored(user, office, day, parking, status == "active", zone, status == "released", deadline)


OWNER = rules.Caller("ann@x.example")
OTHER = rules.Caller("bob@x.example")
ADMIN = rules.Caller("bob@x.example", offices=("alpha",))
OTHER_ADMIN = rules.Caller("bob@x.example", offices=("beta",))
SYSTEM = rules.Caller("root@x.example", system_admin=True)


@pytest.mark.parametrize("value, ok", [
    ("10:00", True), ("00:00", True), ("23:59", True), (None, True),
    ("24:00", False), ("9:00", False), ("10:60", False), ("10:00:00", False), ("", False), ("ten", False),
    (" 10:00", False), (930, False),
])
def test_deadline_values(value, ok):
    if ok:
        assert check_deadline(value) == value
    else:
        with pytest.raises(ValueError):
            check_deadline(value)


def test_deadline_at_is_office_local():
    assert rules.deadline_at(DAY, "Europe/London", "10:00") == at("2027-03-10T10:00:00Z")
    assert rules.deadline_at(DAY, "America/New_York", "10:00") == at("2027-03-10T15:00:00Z")  # EST until 14 March
    assert rules.deadline_at(date(2027, 7, 1), "Europe/London", "10:00") == at("2027-07-01T09:00:00Z")  # BST
    assert rules.deadline_at(DAY, "Europe/London", None) is None


SINCE_LONG_AGO = at("2027-01-01T00:00:00Z")


@pytest.mark.parametrize("now, deadline, since, due", [
    # never early: one second before the deadline nothing of today is due; at it, today is
    ("2027-03-10T09:59:59Z", "10:00", SINCE_LONG_AGO, [date(2027, 3, 3 + i) for i in range(7)]),
    ("2027-03-10T10:00:00Z", "10:00", SINCE_LONG_AGO, [date(2027, 3, 3 + i) for i in range(8)]),
    # no deadline: nothing, ever
    ("2027-03-10T12:00:00Z", None, SINCE_LONG_AGO, []),
    # a deadline set today at 09:00: today's 10:00 applies, no earlier day does
    ("2027-03-10T10:00:05Z", "10:00", at("2027-03-10T09:00:00Z"), [DAY]),
    # set at 10:30, after today's deadline: not even today
    ("2027-03-10T11:00:00Z", "10:00", at("2027-03-10T10:30:00Z"), []),
    # down since yesterday 09:00 (deadline set the day before): yesterday's and today's are applied late
    ("2027-03-10T10:00:01Z", "10:00", at("2027-03-08T12:00:00Z"), [date(2027, 3, 9), DAY]),
])
def test_release_due_days(now, deadline, since, due):
    assert rules.release_due_days(at(now), "Europe/London", deadline, since) == due


def test_release_due_days_in_the_office_zone():
    # 14:59 UTC is 09:59 in New York: not yet; 15:00 is the deadline there
    since = at("2027-03-10T00:00:00Z")
    assert rules.release_due_days(at("2027-03-10T14:59:00Z"), "America/New_York", "10:00", since) == []
    assert rules.release_due_days(at("2027-03-10T15:00:00Z"), "America/New_York", "10:00", since) == [DAY]


# who may release, until when: (booking, caller, now) -> counter change or error
RELEASE_TABLE = [
    # the owner on the day, before the deadline: freed with its car space
    (stored(), OWNER, "2027-03-10T08:00:00Z", rules.CounterChange(-1, -1)),
    (stored(parking=False), OWNER, "2027-03-10T09:59:59Z", rules.CounterChange(-1, 0)),
    # the owner at or after the deadline: too late; an admin of the office: all day
    (stored(), OWNER, "2027-03-10T10:00:00Z", TooLateToRelease),
    (stored(), ADMIN, "2027-03-10T23:59:59Z", rules.CounterChange(-1, -1)),
    (stored(), SYSTEM, "2027-03-10T18:00:00Z", rules.CounterChange(-1, -1)),
    # no deadline: the owner may release all day
    (stored(deadline=None), OWNER, "2027-03-10T23:59:59Z", rules.CounterChange(-1, -1)),
    # before the day: cancel instead; after the day: nobody
    (stored(), OWNER, "2027-03-09T23:59:59Z", ReleaseBeforeDay),
    (stored(), ADMIN, "2027-03-09T12:00:00Z", ReleaseBeforeDay),
    (stored(), OWNER, "2027-03-11T00:00:00Z", TooLateToRelease),
    (stored(), SYSTEM, "2027-03-11T00:00:00Z", TooLateToRelease),
    # someone else's without rights; an admin of another office
    (stored(), OTHER, "2027-03-10T08:00:00Z", BookingForbidden),
    (stored(), OTHER_ADMIN, "2027-03-10T08:00:00Z", BookingForbidden),
    # unknown or cancelled: 404; already released: nothing more to do (None)
    (None, OWNER, "2027-03-10T08:00:00Z", BookingNotFound),
    (stored(status="cancelled"), OWNER, "2027-03-10T08:00:00Z", BookingNotFound),
    (stored(status="released"), OWNER, "2027-03-10T12:00:00Z", None),
    (stored(status="released"), OTHER, "2027-03-10T12:00:00Z", BookingForbidden),
]


@pytest.mark.parametrize("booking, caller, now, expected", RELEASE_TABLE)
def test_decide_release(booking, caller, now, expected):
    if isinstance(expected, type) and issubclass(expected, Exception):
        with pytest.raises(expected):
            rules.decide_release(booking, caller, at(now))
    else:
        assert rules.decide_release(booking, caller, at(now)) == expected


def test_release_messages_are_the_spec_s():
    assert TooLateToRelease().message == "No longer able to release booking"
    assert NoBookingToday().message == "No booking today at this office"


def test_release_until():
    assert rules.release_until(DAY, "Europe/London", "10:00", False) == at("2027-03-10T10:00:00Z")
    assert rules.release_until(DAY, "Europe/London", "10:00", True) == at("2027-03-11T00:00:00Z")
    assert rules.release_until(DAY, "Europe/London", None, False) == at("2027-03-11T00:00:00Z")


@pytest.mark.parametrize("booking, expected", [
    (stored(), True),
    (None, NoBookingToday),
    (stored(status="cancelled"), NoBookingToday),
    (stored(status="released"), NoBookingToday),  # a check-in after release is refused
])
def test_door_check_in(booking, expected):
    if expected is True:
        assert rules.door_check_in(booking) is True
    else:
        with pytest.raises(expected):
            rules.door_check_in(booking)


@pytest.mark.parametrize("status, pass_status", [("active", "ok"), ("cancelled", "cancelled"),
                                                 ("released", "released")])
def test_a_released_pass_says_released(status, pass_status):
    assert rules.pass_status(stored(status=status), "alpha", at("2027-03-10T09:00:00Z")) == pass_status


BEFORE = at("2027-03-09T12:00:00Z")
AFTER = at("2027-03-10T10:30:00Z")  # booked after the deadline: never reached it


@pytest.mark.parametrize("bookings, now, expected", [
    ([], "2027-03-10T12:00:00Z", (0, 0, None)),
    # before the deadline: counts, but no rate yet
    ([("active", True, BEFORE), ("active", False, BEFORE)], "2027-03-10T09:00:00Z", (1, 0, None)),
    # after: 1 of 4 released
    ([("active", True, BEFORE), ("active", True, BEFORE), ("active", True, BEFORE), ("released", False, BEFORE)],
     "2027-03-10T12:00:00Z", (3, 1, 0.25)),
    # a booking made after the deadline did not reach it
    ([("released", False, BEFORE), ("active", False, AFTER)], "2027-03-10T12:00:00Z", (0, 1, 1.0)),
    ([("active", False, AFTER)], "2027-03-10T12:00:00Z", (0, 0, None)),
])
def test_day_outcomes(bookings, now, expected):
    deadline = rules.deadline_at(DAY, "Europe/London", "10:00")
    assert rules.day_outcomes(bookings, deadline, at(now)) == expected


def test_no_show_rate_without_a_deadline_is_null():
    assert rules.day_outcomes([("released", False, BEFORE)], None, at("2027-03-10T12:00:00Z")) == (0, 1, None)
    assert rules.no_show_rate(0, 0) is None
    assert rules.no_show_rate(1, 3) == 0.3333
