"""SPEC §4's creation table, row by row and in its order, against the pure decision (no database).

Rows 1–4 (body, user address, caller's rights, date format) are the gateway's, checked at the
edge before the booking service is asked (tests/test_bookings_e2e.py); rows 5–12 are
`rules.decide`. Each case starts from a request that books, then breaks the rows it names; the
answer must be the first broken row's, with the table's status and exact message.
"""
from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from gateway.errors import REMOTE_ERRORS
from services.booking import exceptions as errors
from services.booking import rules

NOW = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)  # a Wednesday: noon in London
TODAY = date(2027, 1, 6)
USER = "ann@my-company.example"
LONDON = rules.Office("lon", "London", quota=3, parking_quota=1, timezone="Europe/London")
SETTINGS = rules.Settings(advance_booking_days=14, default_weekly_quota=2, reason_to_book_required=False)

# SPEC §4, rows 5–11: (row, status, message, error the booking service raises)
TABLE = [
    (5, 400, "Office not found", errors.OfficeNotFound),
    (6, 400, "Date out of range", errors.DateOutOfRange),
    (7, 400, "Reason to book required", errors.ReasonRequired),
    (8, 409, "Can't have multiple bookings per day", errors.DuplicateBooking),
    (9, 409, "Office quota exceeded", errors.OfficeFull),
    (10, 409, "Office parking quota exceeded", errors.ParkingFull),
    (11, 409, "User quota exceeded", errors.UserQuotaExceeded),
]
ROWS = [row for row, *_ in TABLE]


def case(*broken: int, **changes):
    """A request that books (tomorrow, with parking, a place and a car space free, one booking
    elsewhere this week), with the rows in `broken` broken; `changes` override its fields."""
    f: dict[str, Any] = dict(office=LONDON, day=TODAY + timedelta(days=1), parking=True, reason=None, auto_approved=False,
             reason_required=False, user_quota=None, booked=1, booked_parking=0,
             week=(rules.Held("par", TODAY + timedelta(days=1)),))
    if 5 in broken:
        f["office"] = dataclasses.replace(LONDON, retired=True)
    if 6 in broken:
        f["day"] = TODAY + timedelta(days=SETTINGS.advance_booking_days)  # one day past the window
    if 7 in broken:
        f["reason_required"], f["reason"] = True, "   "
    if 8 in broken:
        f["week"] = (*f["week"], rules.Held("lon", f["day"]))
    if 9 in broken:
        f["booked"] = LONDON.quota
    if 10 in broken:
        f["booked_parking"] = LONDON.parking_quota
    if 11 in broken:
        f["user_quota"] = len(f["week"])
    f.update(changes)
    request = rules.Request(USER, "lon", f["day"], f["parking"], f["reason"])
    snapshot = rules.Snapshot(f["office"], f["user_quota"], f["auto_approved"],
                              rules.Counts(f["booked"], f["booked_parking"], 41), tuple(f["week"]))
    settings = dataclasses.replace(SETTINGS, reason_to_book_required=f["reason_required"])
    return request, snapshot, settings


def answer(request, snapshot, settings, now=NOW):
    """The row that answers: its number, status and message (12 for a booking)."""
    try:
        rules.decide(request, snapshot, settings, now)
    except errors.BookingError as exc:
        row = next(r for r, _, _, error in TABLE if type(exc) is error)
        return row, REMOTE_ERRORS[type(exc)], exc.message
    return 12, 201, "the booking"


@pytest.mark.parametrize("row, status, message, error", TABLE)
def test_each_row_alone_gets_its_status_and_exact_message(row, status, message, error):
    assert answer(*case(row)) == (row, status, message)
    with pytest.raises(error):
        rules.decide(*case(row), NOW)


@pytest.mark.parametrize("broken", [combo for n in range(1, len(ROWS) + 1) for combo in itertools.combinations(ROWS, n)],
                         ids=lambda combo: "+".join(map(str, combo)))
def test_the_first_broken_row_answers(broken):
    """Every combination of broken rows (127 of them): the table is checked in its order, so a
    request breaking rules 8 and 9 gets rule 8's answer."""
    first = min(broken)
    status, message = next((s, m) for r, s, m, _ in TABLE if r == first)
    assert answer(*case(*broken)) == (first, status, message)


def test_row_12_books_and_counts_the_place_and_the_car_space():
    new = rules.decide(*case(), NOW)
    assert new == rules.NewBooking(user=USER, office=LONDON, day=TODAY + timedelta(days=1), parking=True,
                                   counts=rules.Counts(2, 1, 42), reason_required=False, reason=None)
    without_parking = rules.decide(*case(parking=False), NOW)
    assert without_parking.counts == rules.Counts(2, 0, 42)


def test_row_5_unknown_office():
    assert answer(*case(office=None))[0] == 5


@pytest.mark.parametrize("offset, row", [(-1, 6), (0, 12), (13, 12), (14, 6)])
def test_row_6_window_is_today_to_today_plus_advance_minus_one(offset, row):
    assert answer(*case(day=TODAY + timedelta(days=offset)))[0] == row


def test_row_6_counts_days_in_the_office_zone():
    # 10:00 UTC on 6 January is already the 7th in Kiritimati (UTC+14): the 6th is past there
    kiritimati = dataclasses.replace(LONDON, timezone="Pacific/Kiritimati")
    at_ten = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
    assert answer(*case(office=kiritimati, day=TODAY), now=at_ten)[0] == 6
    assert answer(*case(office=kiritimati, day=TODAY + timedelta(days=14)), now=at_ten)[0] == 12
    assert answer(*case(day=TODAY), now=at_ten)[0] == 12  # still the 6th in London


def test_row_7_reason_required_unless_auto_approved():
    for reason, row in ((None, 7), ("", 7), (" \t", 7), ("client visit", 12)):
        assert answer(*case(reason_required=True, reason=reason))[0] == row
    assert answer(*case(reason_required=True, reason=None, auto_approved=True))[0] == 12
    assert answer(*case(reason_required=False, reason=None))[0] == 12
    new = rules.decide(*case(reason_required=True, reason="  client visit "), NOW)
    assert (new.reason_required, new.reason) == (True, "client visit")  # for the facilities mail only
    auto = rules.decide(*case(reason_required=True, reason="kept private", auto_approved=True), NOW)
    assert (auto.reason_required, auto.reason) == (False, None)


def test_row_8_is_per_office_and_day():
    day = TODAY + timedelta(days=1)
    # the same office another day, or another office the same day, is no duplicate
    for held in (rules.Held("lon", day + timedelta(days=1)), rules.Held("par", day)):
        assert answer(*case(week=(held,)))[0] == 12


def test_row_9_and_10_at_the_limit():
    assert answer(*case(booked=LONDON.quota - 1))[0] == 12
    assert answer(*case(booked=LONDON.quota + 5))[0] == 9  # a lowered quota: over, not only at it
    # a full car park refuses only those who ask for parking; an office without one refuses them all
    assert answer(*case(booked_parking=1, parking=False))[0] == 12
    no_car_park = dataclasses.replace(LONDON, parking_quota=0)
    assert answer(*case(office=no_car_park, booked_parking=0))[0] == 10


def test_row_11_weekly_quota_default_override_and_zero():
    day = TODAY + timedelta(days=1)
    one = (rules.Held("par", day),)
    two = (rules.Held("par", day), rules.Held("ber", day - timedelta(days=1)))
    assert answer(*case(week=one, user_quota=None))[0] == 12  # default 2: one used
    assert answer(*case(week=two, user_quota=None))[0] == 11
    assert answer(*case(week=two, user_quota=3))[0] == 12
    assert answer(*case(week=(), user_quota=0))[0] == 11  # 0: may not book at all


def test_rules_5_to_7_alone_are_admit():
    """The repository checks rules 5–7 before locking anything: admit agrees with decide on them."""
    for row in (5, 6, 7):
        with pytest.raises(next(e for r, _, _, e in TABLE if r == row)):
            rules.admit(*case(row, 8, 9), NOW)
    assert rules.admit(*case(8, 9, 10, 11), NOW) == LONDON


def test_request_from_the_rpc_dict():
    r = rules.Request.of({"user": " Ann@My-Company.example ", "office": "lon", "date": "2027-01-07",
                          "parking": None, "reason": 7})
    assert r == rules.Request(USER, "lon", date(2027, 1, 7), False, None)


# ------------------------------------------------------------------------------ cancellation, passes

DAY = date(2027, 1, 7)
MINE = rules.Stored(USER, "lon", DAY, True, True, "Europe/London")
OWNER = rules.Caller(USER)
ADMIN = rules.Caller("boss@my-company.example", system_admin=True)
LON_ADMIN = rules.Caller("desk@my-company.example", offices=("lon",))
STRANGER = rules.Caller("bob@my-company.example", offices=("par",))
DAY_STARTS = datetime(2027, 1, 7, 0, 0, tzinfo=UTC)
DAY_ENDS = datetime(2027, 1, 8, 0, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize("booking, caller, now, outcome", [
    (None, OWNER, NOW, errors.BookingNotFound),
    (dataclasses.replace(MINE, active=False), ADMIN, NOW, errors.BookingNotFound),
    (MINE, STRANGER, NOW, errors.BookingForbidden),
    (MINE, OWNER, DAY_STARTS - SECOND, rules.CounterChange(-1, -1)),
    (MINE, OWNER, DAY_STARTS, errors.TooLateToCancel),
    (MINE, LON_ADMIN, DAY_ENDS - SECOND, rules.CounterChange(-1, -1)),
    (MINE, ADMIN, DAY_ENDS, errors.TooLateToCancel),
    (dataclasses.replace(MINE, user=ADMIN.email), ADMIN, DAY_ENDS - SECOND, rules.CounterChange(-1, -1)),
    (dataclasses.replace(MINE, parking=False), OWNER, NOW, rules.CounterChange(-1, 0)),
])
def test_decide_cancel(booking, caller, now, outcome):
    if isinstance(outcome, rules.CounterChange):
        assert rules.decide_cancel(booking, caller, now) == outcome
    else:
        with pytest.raises(outcome) as raised:
            rules.decide_cancel(booking, caller, now)
        assert raised.value.message == {errors.BookingNotFound: "Not Found", errors.BookingForbidden: "Forbidden",
                                        errors.TooLateToCancel: "No longer able to cancel booking"}[outcome]


def test_pass_status_in_order():
    at_noon = datetime(2027, 1, 7, 12, 0, tzinfo=UTC)
    assert rules.pass_status(MINE, "lon", at_noon) == "ok"
    assert rules.pass_status(MINE, "lon", NOW) == "wrong_day"
    assert rules.pass_status(MINE, "par", NOW) == "wrong_office"
    assert rules.pass_status(dataclasses.replace(MINE, active=False), "par", NOW) == "cancelled"


def test_counts_change_and_what_an_erasure_frees():
    assert rules.Counts(3, 1, 9).changed(rules.CounterChange(-1, -1)) == rules.Counts(2, 0, 10)
    assert rules.freed_by([("lon", DAY, True), ("lon", DAY, False), ("par", DAY, False)]) == {
        ("lon", DAY): rules.CounterChange(-2, -1), ("par", DAY): rules.CounterChange(-1, 0)}
    assert rules.freed_by([]) == {}


def test_bookable_days_are_the_window():
    days = rules.bookable_days(NOW, "Europe/London", 14)
    assert days[0] == TODAY and days[-1] == TODAY + timedelta(days=13) and len(days) == 14
    assert rules.bookable_window(NOW, "Europe/London", 14) == (days[0], days[-1])
