"""SPEC §15 day overrides and closures, as pure rules (no database): where the closed-day check
sits in §4's table (right after rule 8), the effective quotas rules 9 and 10 use, and what a day
change (PUT /api/offices/{id}/days/{date}) decides."""
from __future__ import annotations

import dataclasses
import itertools
from datetime import timedelta

import pytest

from gateway.errors import REMOTE_ERRORS
from services.booking import exceptions as errors
from services.booking import rules
from services.booking.tests.unit.test_decide import LONDON, NOW, TODAY, case

CLOSED = rules.Override(closed=True, note="Boiler repairs")

# SPEC §4 rows 5–11 with §15's closed day after row 8 ("8½"), in the order they are checked.
ORDER = [
    (5, 400, "Office not found", errors.OfficeNotFound),
    (6, 400, "Date out of range", errors.DateOutOfRange),
    (7, 400, "Reason to book required", errors.ReasonRequired),
    (8, 409, "Can't have multiple bookings per day", errors.DuplicateBooking),
    (8.5, 409, "Office closed on that day", errors.OfficeClosed),
    (9, 409, "Office quota exceeded", errors.OfficeFull),
    (10, 409, "Office parking quota exceeded", errors.ParkingFull),
    (11, 409, "User quota exceeded", errors.UserQuotaExceeded),
]


def closed_case(*broken, override=None, **changes):
    """test_decide's case (a request that books, with the §4 rows in `broken` broken), closed
    when 8.5 is among them; `override` is the day's override otherwise."""
    request, snapshot, settings = case(*[r for r in broken if r != 8.5], **changes)
    return request, dataclasses.replace(snapshot, override=CLOSED if 8.5 in broken else override), settings


def answer(request, snapshot, settings, now=NOW):
    try:
        rules.decide(request, snapshot, settings, now)
    except errors.BookingError as exc:
        row = next(r for r, _, _, error in ORDER if type(exc) is error)
        return row, REMOTE_ERRORS[type(exc)], exc.message
    return 12, 201, "the booking"


def test_closed_day_alone_is_409_office_closed():
    assert answer(*closed_case(8.5)) == (8.5, 409, "Office closed on that day")
    assert errors.OfficeClosed.code == "office_closed"


@pytest.mark.parametrize("broken", [c for n in range(1, 4) for c in itertools.combinations([r for r, *_ in ORDER], n)
                                    if 8.5 in c], ids=lambda c: "+".join(map(str, c)))
def test_closed_day_is_checked_right_after_rule_8(broken):
    """Every combination with the closure and up to two other broken rows: rules 5–8 come first,
    the closure before 9, 10 and 11."""
    first = min(broken)
    _, status, message, _ = next(row for row in ORDER if row[0] == first)
    assert answer(*closed_case(*broken)) == (first, status, message)


@pytest.mark.parametrize("override, booked, booked_parking, parking, row", [
    (None, LONDON.quota - 1, 0, True, 12),                                     # the office's 3 places
    (rules.Override(quota=1), 1, 0, False, 9),                                 # lowered below what is booked
    (rules.Override(quota=1), 0, 0, False, 12),
    (rules.Override(quota=10), LONDON.quota, 0, False, 12),                     # raised above the office's
    (rules.Override(parking_quota=0), 0, 0, True, 10),                          # no car park that day
    (rules.Override(parking_quota=0), 0, 0, False, 12),
    (rules.Override(parking_quota=5), 0, LONDON.parking_quota, True, 12),
    (rules.Override(note="Fire drill at 11"), 0, 0, True, 12),                  # a note alone changes nothing
    (rules.Override(quota=10, closed=True), 0, 0, False, 8.5),                  # closed wins over any quota
])
def test_rules_9_and_10_use_the_days_effective_quotas(override, booked, booked_parking, parking, row):
    assert answer(*closed_case(override=override, booked=booked, booked_parking=booked_parking,
                               parking=parking))[0] == row


def test_effective_day():
    assert rules.effective_day(LONDON, None) == rules.Day(3, 1, False, None)
    assert rules.effective_day(LONDON, rules.Override(quota=0)) == rules.Day(0, 1, False, None)
    assert rules.effective_day(LONDON, CLOSED) == rules.Day(3, 1, True, "Boiler repairs")


# ------------------------------------------------------------------------------ decide_day

TOMORROW = TODAY + timedelta(days=1)


def change(**fields):
    return rules.DayChange.of(fields)


@pytest.mark.parametrize("current, fields, expected", [
    (None, {"quota": 1}, rules.Override(quota=1)),
    (None, {"closed": True, "note": "  Strike  "}, rules.Override(closed=True, note="Strike")),
    (None, {"closed": True, "cancel_existing": True}, rules.Override(closed=True)),
    # absent fields keep the current override's values; null quota means the office's again
    (rules.Override(quota=1, note="x"), {"parking_quota": 0}, rules.Override(quota=1, parking_quota=0, note="x")),
    (rules.Override(quota=1), {"quota": None}, None),                 # overrides nothing any more: removed
    (CLOSED, {"closed": False}, rules.Override(note="Boiler repairs")),  # reopened, note kept
    (CLOSED, {"closed": False, "note": ""}, None),
    (None, {}, None),
])
def test_decide_day_merges_and_removes_empty_overrides(current, fields, expected):
    decision = rules.decide_day(LONDON, TOMORROW, current, change(**fields), NOW)
    assert decision.override == expected
    assert decision.cancel_existing is bool(fields.get("cancel_existing"))


@pytest.mark.parametrize("day, fields, field", [
    (TODAY - timedelta(days=1), {"closed": True}, "date"),
    (TODAY + timedelta(days=rules.OVERRIDE_DAYS_AHEAD + 1), {"closed": True}, "date"),
    (TOMORROW, {"quota": -1}, "quota"),
    (TOMORROW, {"quota": 100001}, "quota"),
    (TOMORROW, {"quota": True}, "quota"),
    (TOMORROW, {"quota": "5"}, "quota"),
    (TOMORROW, {"parking_quota": -2}, "parking_quota"),
    (TOMORROW, {"closed": "yes"}, "closed"),
    (TOMORROW, {"closed": None}, "closed"),
    (TOMORROW, {"note": "x" * (rules.NOTE_MAX + 1)}, "note"),
    (TOMORROW, {"note": 5}, "note"),
    (TOMORROW, {"cancel_existing": True}, "cancel_existing"),
    (TOMORROW, {"quota": 2, "cancel_existing": True}, "cancel_existing"),
])
def test_decide_day_names_the_bad_field(day, fields, field):
    with pytest.raises(errors.DayChangeInvalid) as raised:
        rules.decide_day(LONDON, day, None, change(**fields), NOW)
    assert raised.value.message.startswith(f"Invalid {field}")
    assert REMOTE_ERRORS.get(errors.DayChangeInvalid, 400) == 400


def test_decide_day_today_and_the_last_day_are_allowed_and_unknown_office_is_refused():
    for day in (TODAY, TODAY + timedelta(days=rules.OVERRIDE_DAYS_AHEAD)):
        assert rules.decide_day(LONDON, day, None, change(closed=True), NOW).override == rules.Override(closed=True)
    with pytest.raises(errors.OfficeNotFound):
        rules.decide_day(None, TOMORROW, None, change(closed=True), NOW)
