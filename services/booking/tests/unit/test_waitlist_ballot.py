"""SPEC §12 (waitlist) and §13 (ballot) as pure rules, without a database: who may queue, who a
freed place goes to, when a day is requested rather than booked, and the draw (same seed, same
result; fewer recent office days, better odds; equal histories, equal odds)."""
from __future__ import annotations

import dataclasses
import random
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest

from services.booking import exceptions as errors
from services.booking import rules

NOW = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)  # a Wednesday, noon in London
TODAY = date(2027, 1, 6)
TOMORROW = TODAY + timedelta(days=1)
USER = "ann@my-company.example"
LONDON = rules.Office("lon", "London", quota=2, parking_quota=1, timezone="Europe/London", check_in_deadline="10:00")
SETTINGS = rules.Settings(advance_booking_days=14, default_weekly_quota=3)


def join(office=LONDON, day=TOMORROW, parking=False, booked=2, booked_parking=0, week=(), already=False,
         override=None, drawn=False, now=NOW, user_quota=None):
    request = rules.Request(USER, office.id, day, parking)
    snapshot = rules.Snapshot(office, user_quota, False, rules.Counts(booked, booked_parking, 1), tuple(week),
                              override, drawn)
    return rules.decide_join(request, snapshot, SETTINGS, now, already)


# ------------------------------------------------------------------ joining (SPEC §12)

def test_a_full_day_a_full_car_park_or_a_closed_day_can_be_joined():
    assert join() == LONDON
    assert join(booked=1, parking=True, booked_parking=1) == LONDON  # a place, but no car space
    assert join(booked=0, override=rules.Override(closed=True)) == LONDON


def test_a_day_with_room_says_book_instead():
    with pytest.raises(errors.PlacesAvailable, match="^Places are available: book instead$"):
        join(booked=1)
    with pytest.raises(errors.PlacesAvailable):  # a raised override counts
        join(booked=2, override=rules.Override(quota=5))


@pytest.mark.parametrize("broken, error", [
    ({"office": dataclasses.replace(LONDON, retired=True)}, errors.OfficeNotFound),  # rule 5
    ({"day": TODAY + timedelta(days=14)}, errors.DateOutOfRange),  # rule 6
    ({"week": (rules.Held("lon", TOMORROW),)}, errors.DuplicateBooking),  # rule 8
    ({"already": True}, errors.AlreadyWaitlisted),
    ({"user_quota": 0}, errors.UserQuotaExceeded),  # rule 11
])
def test_joining_follows_the_booking_rules_and_refuses_a_second_entry(broken, error):
    with pytest.raises(error):
        join(**broken)


def test_rule_8_comes_before_already_waitlisted_and_11_before_places_available():
    with pytest.raises(errors.DuplicateBooking):
        join(week=(rules.Held("lon", TOMORROW),), already=True)
    with pytest.raises(errors.UserQuotaExceeded):  # would not be booked either: rule 11's answer
        join(booked=0, user_quota=0)


def test_the_waitlist_closes_at_the_check_in_deadline_or_the_start_of_the_day():
    at_deadline = datetime(2027, 1, 7, 10, 0, tzinfo=UTC)  # 10:00 London in January
    assert join(now=at_deadline - timedelta(seconds=1)) == LONDON
    with pytest.raises(errors.WaitlistClosed, match="^The waitlist for that day has closed$"):
        join(now=at_deadline)
    no_deadline = dataclasses.replace(LONDON, check_in_deadline=None)
    with pytest.raises(errors.WaitlistClosed):
        join(office=no_deadline, day=TODAY)
    assert rules.waitlist_expires_at(TOMORROW, "Europe/London", None) == rules.start_of_day(TOMORROW, "Europe/London")


# ------------------------------------------------------------------ promotion (SPEC §12)

def w(name, parking=False, held=False, week_held=0, quota=3):
    return rules.Waiting(name, f"{name}@x", parking, held, week_held, quota)


def promoted(queue, quota=2, parking_quota=1, booked=1, booked_parking=0, closed=False, office=LONDON, now=NOW,
             expires=NOW + timedelta(hours=1)):
    day = rules.Day(quota, parking_quota, closed)
    return [e.id for e, _ in rules.promote(queue, office, day, rules.Counts(booked, booked_parking, 7), expires, now)]


def test_one_freed_place_goes_to_the_first_entry_only():
    assert promoted([w("a"), w("b"), w("c")]) == ["a"]


def test_an_ineligible_entry_keeps_its_place_and_the_next_one_is_promoted():
    assert promoted([w("a", held=True), w("b", week_held=3, quota=3), w("c"), w("d")]) == ["c"]
    # a parking entry needs a car space too; without one the next entry gets the place
    assert promoted([w("a", parking=True), w("b")], booked_parking=1) == ["b"]
    assert promoted([w("a", parking=True), w("b")], booked_parking=0) == ["a"]


def test_several_places_go_in_order_and_the_counters_follow():
    result = rules.promote([w("a", parking=True), w("b", parking=True), w("c")], LONDON, rules.Day(5, 1),
                           rules.Counts(2, 0, 7), NOW + timedelta(hours=1), NOW)
    assert [(e.id, c) for e, c in result] == [("a", rules.Counts(3, 1, 8)), ("c", rules.Counts(4, 1, 9))]


def test_nothing_is_promoted_on_a_closed_day_a_retired_office_or_after_the_waitlist_closed():
    assert promoted([w("a")], closed=True) == []
    assert promoted([w("a")], office=dataclasses.replace(LONDON, retired=True)) == []
    assert promoted([w("a")], expires=NOW) == []
    assert promoted([w("a")], booked=2) == []  # no place free


# ------------------------------------------------------------------ ballot (SPEC §13)

BALLOT = dataclasses.replace(LONDON, allocation="ballot", ballot_draw_days_before=7, ballot_draw_time="12:00")


def test_the_draw_moment_is_the_draw_time_days_before_in_office_time():
    assert rules.draw_at(LONDON, TOMORROW) is None
    moment = rules.draw_at(dataclasses.replace(BALLOT, timezone="America/New_York"), date(2027, 1, 20))
    assert moment == datetime(2027, 1, 13, 17, 0, tzinfo=UTC)  # 12:00 in New York
    assert not rules.draw_due(BALLOT, date(2027, 1, 14), datetime(2027, 1, 7, 11, 59, tzinfo=UTC))
    assert rules.draw_due(BALLOT, date(2027, 1, 14), datetime(2027, 1, 7, 12, 0, tzinfo=UTC))


def decide(office=BALLOT, booked=2, drawn=False, week=(), user_quota=None, closed=False):
    snapshot = rules.Snapshot(office, user_quota, False, rules.Counts(booked, 0, 3), tuple(week),
                              rules.Override(closed=True) if closed else None, drawn)
    return rules.decide(rules.Request(USER, office.id, TODAY + timedelta(days=10)), snapshot, SETTINGS, NOW)


def test_a_ballot_day_not_drawn_is_requested_without_checking_capacity():
    new = decide(booked=2)  # full, but not drawn: a request
    assert new.requested and new.counts == rules.Counts(2, 0, 3)
    with pytest.raises(errors.OfficeFull):  # drawn: first come, first served
        decide(booked=2, drawn=True)
    assert not decide(booked=1, drawn=True).requested
    assert not decide(office=LONDON, booked=1).requested


def test_requests_follow_rules_8_and_11_and_closures():
    day = TODAY + timedelta(days=10)
    with pytest.raises(errors.DuplicateBooking):
        decide(week=(rules.Held(BALLOT.id, day),))
    with pytest.raises(errors.UserQuotaExceeded):  # requested bookings count toward the quota
        decide(week=(rules.Held("par", day), rules.Held("ber", day), rules.Held("mad", day)))
    with pytest.raises(errors.OfficeClosed):
        decide(closed=True)


def test_joining_a_ballot_day_not_drawn_says_book_instead():
    with pytest.raises(errors.PlacesAvailable):
        join(office=BALLOT, day=TODAY + timedelta(days=10), booked=2)


def entries(n, office_days=0, parking=False):
    return [rules.BallotEntry(f"r{i:03d}", parking, office_days) for i in range(n)]


def test_the_same_seed_gives_the_same_draw_and_another_seed_another():
    pool = entries(20)
    one = rules.draw(pool, "seed-1", rules.Day(5, 0), rules.Counts())
    again = rules.draw(list(reversed(pool)), "seed-1", rules.Day(5, 0), rules.Counts())
    other = rules.draw(pool, "seed-2", rules.Day(5, 0), rules.Counts())
    assert one == again and len(one.winners) == 5
    assert one.order != other.order
    assert list(one.outcome().values()).count("won") == 5


def test_fewer_recent_office_days_go_first_and_ties_follow_the_seeded_order():
    pool = [rules.BallotEntry("often", False, 12), rules.BallotEntry("never", False, 0),
            rules.BallotEntry("sometimes", False, 4)]
    result = rules.draw(pool, "s", rules.Day(2, 0), rules.Counts())
    assert [e.id for e in result.order] == ["never", "sometimes", "often"]
    assert result.winners == ("never", "sometimes")
    ties = rules.draw_order(entries(6), "s")
    assert [e.id for e in ties] == sorted((e.id for e in ties), key=lambda i: rules.tiebreak("s", i))


def test_a_winner_needs_eligibility_and_a_car_space_when_asked():
    pool = [rules.BallotEntry("a", True, 0), rules.BallotEntry("b", True, 1), rules.BallotEntry("c", False, 2, False),
            rules.BallotEntry("d", False, 3)]
    result = rules.draw(pool, "s", rules.Day(3, 1), rules.Counts())
    assert result.winners == ("a", "d")  # b: no car space left; c: not eligible
    assert result.counts == rules.Counts(2, 1, 2)
    assert rules.draw(pool, "s", rules.Day(3, 1, closed=True), rules.Counts()).winners == ()


def test_over_1000_draws_fewer_office_days_win_measurably_more_often():
    """Half the requesters came 0–2 days, half 8–12 days; 10 places for 40: the first group wins
    nearly always, the second only what is left."""
    rng = random.Random(7)
    low = [rules.BallotEntry(f"low{i}", False, rng.randint(0, 2)) for i in range(20)]
    high = [rules.BallotEntry(f"high{i}", False, rng.randint(8, 12)) for i in range(20)]
    wins = {e.id: 0 for e in low + high}
    for n in range(1000):
        for winner in rules.draw(low + high, f"seed-{n}", rules.Day(25, 0), rules.Counts()).winners:
            wins[winner] += 1
    low_rate = sum(wins[e.id] for e in low) / (1000 * len(low))
    high_rate = sum(wins[e.id] for e in high) / (1000 * len(high))
    assert low_rate == 1.0 and 0.2 < high_rate < 0.3  # 20 places for low, 5 of 20 for high


def test_over_1000_draws_equal_histories_win_equally_within_statistical_bounds():
    pool = entries(30, office_days=3)
    wins = {e.id: 0 for e in pool}
    for n in range(1000):
        for winner in rules.draw(pool, f"s{n}", rules.Day(10, 0), rules.Counts()).winners:
            wins[winner] += 1
    # each wins with p = 1/3: over 1000 draws, mean 333, sd ≈ 14.9; 5 sd either side
    assert all(333 - 75 < count < 333 + 75 for count in wins.values()), wins
    assert abs(statistics.mean(wins.values()) - 1000 * 10 / 30) < 1
