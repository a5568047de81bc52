"""SPEC §14 as pure rules: which dates a recurring pattern books (time zones, DST changes,
weekends, `until`), what a pattern may say, and what a range cancel cancels or keeps."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.booking import exceptions as errors
from services.booking import rules

LONDON = rules.Office("lon", "London", 10, 2, "Europe/London")
SETTINGS = rules.Settings(advance_booking_days=14, default_weekly_quota=3)


def window(now: datetime, office: rules.Office = LONDON) -> tuple[date, date]:
    return rules.bookable_window(now, office.timezone, SETTINGS.advance_booking_days)


def test_occurrences_are_the_pattern_weekdays_inside_the_window_in_order():
    now = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)  # a Wednesday
    days = rules.occurrences(rules.Pattern("lon", (1, 3, 5)), *window(now))
    assert days == [date(2027, 3, 3), date(2027, 3, 5), date(2027, 3, 8), date(2027, 3, 10), date(2027, 3, 12),
                    date(2027, 3, 15)]
    assert all(d.isoweekday() in (1, 3, 5) for d in days)


def test_weekends_are_weekdays_like_any_other():
    now = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    assert rules.occurrences(rules.Pattern("lon", (6, 7)), *window(now)) == [
        date(2027, 3, 6), date(2027, 3, 7), date(2027, 3, 13), date(2027, 3, 14)]


def test_until_ends_the_pattern_and_is_included():
    now = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    assert rules.occurrences(rules.Pattern("lon", (1, 3, 5), until=date(2027, 3, 8)), *window(now)) == [
        date(2027, 3, 3), date(2027, 3, 5), date(2027, 3, 8)]
    assert rules.occurrences(rules.Pattern("lon", (1,), until=date(2027, 3, 3)), *window(now)) == []


@pytest.mark.parametrize("zone, utc_now, first_day", [
    # the window starts at the office's local midnight: the same instant is another date elsewhere
    ("Pacific/Auckland", datetime(2027, 3, 2, 12, 30, tzinfo=UTC), date(2027, 3, 3)),  # 01:30 on the 3rd
    ("America/Los_Angeles", datetime(2027, 3, 3, 7, 30, tzinfo=UTC), date(2027, 3, 2)),  # 23:30 on the 2nd
    ("Europe/London", datetime(2027, 3, 3, 0, 0, tzinfo=UTC), date(2027, 3, 3)),  # midnight exactly
])
def test_a_date_enters_the_window_at_the_office_local_midnight(zone, utc_now, first_day):
    office = rules.Office("x", "X", 10, 0, zone)
    first, last = window(utc_now, office)
    assert (first, last) == (first_day, first_day + timedelta(days=13))
    every_day = rules.occurrences(rules.Pattern("x", tuple(range(1, 8))), first, last)
    assert len(every_day) == 14 and every_day[0] == first_day


@pytest.mark.parametrize("zone, before_change, after_change", [
    # London springs forward on 2027-03-28 (01:00 UTC), New York on 2027-03-14 (07:00 UTC)
    ("Europe/London", datetime(2027, 3, 27, 23, 59, tzinfo=UTC), datetime(2027, 3, 28, 23, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2027, 3, 14, 4, 59, tzinfo=UTC), datetime(2027, 3, 15, 4, 0, tzinfo=UTC)),
])
def test_a_dst_change_neither_skips_nor_doubles_a_date(zone, before_change, after_change):
    office = rules.Office("x", "X", 10, 0, zone)
    pattern = rules.Pattern("x", tuple(range(1, 8)))
    seen: list[date] = []
    moment = before_change
    while moment <= after_change + timedelta(hours=1):  # every 15 minutes across the change
        for d in rules.occurrences(pattern, *window(moment, office)):
            if d not in seen:
                seen.append(d)
        moment += timedelta(minutes=15)
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert all((b - a).days == 1 for a, b in zip(seen, seen[1:], strict=False))  # no date skipped
    start, end = window(before_change, office)[0], window(moment - timedelta(minutes=15), office)[0]
    assert len(seen) == (end - start).days + 14  # every date the window passed over, once


def test_five_days_with_a_weekly_quota_of_three_book_three_and_report_two():
    """The occurrences go through the booking decision one by one, as the job does."""
    monday = date(2027, 3, 8)
    now = datetime(2027, 3, 6, 9, 0, tzinfo=UTC)  # Saturday: next week is in the window
    pattern = rules.Pattern("lon", (1, 2, 3, 4, 5))
    week: tuple[rules.Held, ...] = ()
    results = []
    for day in [d for d in rules.occurrences(pattern, *window(now)) if monday <= d <= monday + timedelta(days=6)]:
        snapshot = rules.Snapshot(LONDON, None, False, rules.Counts(), week)
        try:
            rules.decide(rules.Request("ann@x", "lon", day), snapshot, SETTINGS, now)
        except errors.BookingError as exc:
            results.append((day, exc.message))
        else:
            week = (*week, rules.Held("lon", day))
            results.append((day, "booked"))
    assert [r for _, r in results] == ["booked"] * 3 + ["User quota exceeded"] * 2


def test_a_pattern_names_its_bad_fields():
    now = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)
    ok = rules.decide_pattern({"weekdays": [5, 1, 1], "parking": True, "until": "2027-04-01"}, LONDON, now)
    assert ok == rules.Pattern("lon", (1, 5), True, date(2027, 4, 1))
    for fields, field in [({"weekdays": []}, "weekdays"), ({"weekdays": [0]}, "weekdays"),
                          ({"weekdays": [8]}, "weekdays"), ({"weekdays": [True]}, "weekdays"),
                          ({"weekdays": [1], "parking": "yes"}, "parking"),
                          ({"weekdays": [1], "until": "2027-02-30"}, "until"),
                          ({"weekdays": [1], "until": "2027-03-02"}, "until")]:
        with pytest.raises(errors.RecurringInvalid, match=f"^Invalid {field}"):
            rules.decide_pattern(fields, LONDON, now)
    with pytest.raises(errors.OfficeNotFound):
        rules.decide_pattern({"weekdays": [1]}, None, now)


def test_a_range_cancel_cancels_what_the_owner_may_and_keeps_the_rest_with_the_reason():
    now = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)  # today (3 March) has started: the owner cannot cancel it
    me = rules.Caller("ann@x", system_admin=True)  # an admin cancels their own as their owner
    mine = [("today", rules.Stored("ann@x", "lon", date(2027, 3, 3), False, True, "Europe/London")),
            ("friday", rules.Stored("ann@x", "lon", date(2027, 3, 5), False, True, "Europe/London")),
            ("request", rules.Stored("ann@x", "lon", date(2027, 3, 9), False, False, "Europe/London",
                                     status="requested"))]
    cancel, kept = rules.decide_range_cancel(mine, me, now, date(2027, 3, 1), date(2027, 3, 20))
    assert cancel == ["friday", "request"]
    assert kept == [{"id": "today", "message": "No longer able to cancel booking", "code": "too_late_to_cancel"}]
    with pytest.raises(errors.InvalidRange):
        rules.decide_range_cancel(mine, me, now, date(2027, 3, 20), date(2027, 3, 1))
    with pytest.raises(errors.InvalidRange):
        rules.decide_range_cancel(mine, me, now, date(2027, 1, 1), date(2028, 6, 1))
