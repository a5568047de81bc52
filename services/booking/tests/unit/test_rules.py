"""Booking rules with an injected clock: windows, weeks and deadlines at their edges."""
from datetime import UTC, date, datetime

import pytest

from services.booking import rules

UTC = UTC


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_parse_dates():
    assert rules.parse_dates(["2030-01-01"]) == [date(2030, 1, 1)]
    with pytest.raises(ValueError):
        rules.parse_dates(["2030-13-01"])
    with pytest.raises(ValueError):
        rules.parse_dates(["2030-01-01"] * (rules.MAX_RANGE_DAYS + 1))


@pytest.mark.parametrize("now, zone, today", [
    # One minute before and after midnight in London (UTC+0 in winter).
    ("2027-01-03T23:59:00Z", "Europe/London", date(2027, 1, 3)),
    ("2027-01-04T00:00:00Z", "Europe/London", date(2027, 1, 4)),
    # Kiritimati is UTC+14: already tomorrow. Pago Pago is UTC-11: still yesterday.
    ("2027-01-03T10:00:00Z", "Pacific/Kiritimati", date(2027, 1, 4)),
    ("2027-01-03T10:00:00Z", "Pacific/Pago_Pago", date(2027, 1, 2)),
    # Summer time: London is UTC+1, so 23:30 UTC is already the next day there.
    ("2027-07-01T23:30:00Z", "Europe/London", date(2027, 7, 2)),
])
def test_today_is_the_office_zone_date(now, zone, today):
    assert rules.office_today(at(now), zone) == today


def test_window_is_today_plus_advance_minus_one_weekends_included():
    first, last = rules.bookable_window(at("2027-01-01T12:00:00Z"), "Europe/London", 14)
    assert (first, last) == (date(2027, 1, 1), date(2027, 1, 14))
    # one second before midnight in Kiritimati the window still starts on its "today"
    first, _ = rules.bookable_window(at("2027-01-01T09:59:59Z"), "Pacific/Kiritimati", 1)
    assert first == date(2027, 1, 1)
    first, _ = rules.bookable_window(at("2027-01-01T10:00:00Z"), "Pacific/Kiritimati", 1)
    assert first == date(2027, 1, 2)


@pytest.mark.parametrize("day, monday, sunday", [
    (date(2026, 12, 31), date(2026, 12, 28), date(2027, 1, 3)),  # week across the new year
    (date(2027, 1, 3), date(2026, 12, 28), date(2027, 1, 3)),    # Sunday ends it
    (date(2027, 1, 4), date(2027, 1, 4), date(2027, 1, 10)),     # Monday starts the next
    (date(2028, 2, 29), date(2028, 2, 28), date(2028, 3, 5)),    # leap day
])
def test_weeks_run_monday_to_sunday(day, monday, sunday):
    assert rules.week_of(day) == (monday, sunday)


def test_cancellation_deadlines_are_in_the_office_zone():
    day = date(2027, 1, 4)
    owner = rules.cancel_deadline(day, "Pacific/Kiritimati", as_admin=False)
    admin = rules.cancel_deadline(day, "Pacific/Kiritimati", as_admin=True)
    assert owner.isoformat() == "2027-01-04T00:00:00+14:00"
    assert admin.isoformat() == "2027-01-05T00:00:00+14:00"
    # the owner can cancel until the instant the day starts there, admins until it ends
    assert rules.can_cancel(at("2027-01-03T09:59:59Z"), day, "Pacific/Kiritimati", as_admin=False)
    assert not rules.can_cancel(at("2027-01-03T10:00:00Z"), day, "Pacific/Kiritimati", as_admin=False)
    assert rules.can_cancel(at("2027-01-04T09:59:59Z"), day, "Pacific/Kiritimati", as_admin=True)
    assert not rules.can_cancel(at("2027-01-04T10:00:00Z"), day, "Pacific/Kiritimati", as_admin=True)
    assert rules.start_of_day(day, "Pacific/Pago_Pago").isoformat() == "2027-01-04T00:00:00-11:00"


def test_deadline_across_a_daylight_saving_change():
    # London switches to summer time on 2027-03-28; the day still starts at local midnight.
    assert rules.start_of_day(date(2027, 3, 28), "Europe/London").isoformat() == "2027-03-28T00:00:00+00:00"
    assert rules.end_of_day(date(2027, 3, 28), "Europe/London").isoformat() == "2027-03-29T00:00:00+01:00"


def test_request_fingerprint_covers_the_request_fields_only():
    a = {"user": "u@x.example", "office": "a", "date": "2027-01-04", "parking": False, "reason": None}
    key = b"k" * 32
    assert rules.request_fingerprint(a, key) == rules.request_fingerprint({**a, "ignored": 1}, key)
    assert rules.request_fingerprint(a, key) != rules.request_fingerprint({**a, "parking": True}, key)


def test_request_fingerprint_is_keyed_so_a_guessed_reason_cannot_be_confirmed():
    import hashlib
    import json

    a = {"user": "u@x.example", "office": "a", "date": "2027-01-04", "parking": False, "reason": "Medical visit"}
    unkeyed = hashlib.sha256(json.dumps(a, sort_keys=True).encode()).hexdigest()
    assert rules.request_fingerprint(a, b"k" * 32) != unkeyed
    assert rules.request_fingerprint(a, b"k" * 32) != rules.request_fingerprint(a, b"j" * 32)


def test_iso_utc_uses_z():
    assert rules.iso_utc(at("2027-01-04T10:00:00+02:00")) == "2027-01-04T08:00:00Z"
