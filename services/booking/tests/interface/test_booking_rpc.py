"""Booking's RPCs against the running service, broker and database."""
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from services.booking.exceptions import BookingForbidden, BookingNotFound, InvalidRange, OfficeFull, OfficeNotFound


def tomorrow() -> str:
    return (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)).isoformat()


def test_slots_count_from_the_counters(stack):
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO booking.day_counts (office, date, booked, booked_parking, version) "
                     "VALUES ('gamma', '2030-01-02', 3, 1, 4)")
    with stack.rpc() as rpc:
        slots = rpc.booking.get_slots("gamma", ["2030-01-01", "2030-01-02"])
    assert slots == [{"date": "2030-01-01", "booked": 0, "booked_parking": 0, "version": 0, "override": None},
                     {"date": "2030-01-02", "booked": 3, "booked_parking": 1, "version": 4, "override": None}]


def test_bad_dates_are_typed_errors(stack):
    with stack.rpc() as rpc:
        with pytest.raises(InvalidRange):
            rpc.booking.get_slots("alpha", ["2030-02-30"])


def test_create_get_list_cancel(stack):
    user = f"rpc-{uuid.uuid4().hex[:8]}@my-company.example"
    request = {"user": user, "office": "beta", "date": tomorrow(), "parking": True, "reason": None}
    with stack.rpc() as rpc:
        booking = rpc.booking.create_booking(request, user)
        assert booking["office"] == {"id": "beta", "name": "Office Beta"} and booking["parking"] is True
        assert rpc.booking.get_booking(booking["id"]) == booking
        assert rpc.booking.list_bookings(user=user) == [booking]
        assert rpc.booking.list_bookings(user=user, offices=["alpha"]) == []
        with pytest.raises(BookingForbidden):
            rpc.booking.cancel_booking(booking["id"], {"email": "other@my-company.example", "system_admin": False,
                                                       "offices": []})
        rpc.booking.cancel_booking(booking["id"], {"email": user, "system_admin": False, "offices": []})
        assert rpc.booking.get_booking(booking["id"])["status"] == "cancelled"
        with pytest.raises(BookingNotFound):
            rpc.booking.cancel_booking(booking["id"], {"email": user, "system_admin": False, "offices": []})
        with pytest.raises(OfficeNotFound):
            rpc.booking.create_booking({**request, "office": "nowhere"}, user)


def test_a_full_day_refuses_without_waiting_for_its_counter_lock(stack):
    """The window opening (issue 16): thousands ask for a day that is already full. Each refusal is
    decided on a lock-free snapshot, so it does not queue behind the decisions holding the day's
    counter row (here a transaction holds it for the whole test); only an acceptance waits."""
    day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=12)).isoformat()
    user = f"late-{uuid.uuid4().hex[:8]}@my-company.example"
    request = {"user": user, "office": "alpha", "date": day, "parking": False, "reason": None}
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        quota = next(o["quota"] for o in stack.config["offices"] if o["id"] == "alpha")
        before = conn.execute("INSERT INTO booking.day_counts AS c (office, date, booked, booked_parking, version) "
                              "VALUES ('alpha', %s, 0, 0, 0) ON CONFLICT (office, date) DO UPDATE SET version = "
                              "c.version RETURNING booked", (day,)).fetchone()[0]
        conn.execute("UPDATE booking.day_counts SET booked = %s WHERE office = 'alpha' AND date = %s", (quota, day))
        try:
            with psycopg.connect(stack.database_url) as holder:
                holder.execute("SELECT 1 FROM booking.day_counts WHERE office = 'alpha' AND date = %s FOR UPDATE",
                               (day,))
                with stack.rpc(timeout=8) as rpc:
                    started = time.monotonic()
                    with pytest.raises(OfficeFull):
                        rpc.booking.create_booking(request, user)
                    took = time.monotonic() - started
                    assert rpc.booking.list_bookings(user=user) == []
                holder.rollback()
        finally:
            conn.execute("UPDATE booking.day_counts SET booked = booked - %s WHERE office = 'alpha' AND date = %s",
                         (quota - before, day))
    assert took < 2, f"the refusal waited {took:.1f} s for the day's lock"


def test_stats_cover_every_office_and_day_in_the_given_order(stack):
    day = tomorrow()
    with stack.rpc() as rpc:
        rows = rpc.booking.stats(offices=["beta", "alpha", "nowhere"], date_from=day, date_to=day)
        assert [(r["office"], r["date"]) for r in rows] == [("beta", day), ("alpha", day)]
        assert all(set(r) == {"office", "date", "bookings", "parking", "checked_in", "released", "no_show_rate"}
                   for r in rows)
        assert rpc.booking.stats(offices=[], date_from=day, date_to=day) == []
        assert rpc.booking.stats(offices=["alpha"], date_from="2000-01-01", date_to="2000-01-02") == []
        with pytest.raises(InvalidRange):
            rpc.booking.stats(offices=["alpha"], date_from="2030-02-30")
        with pytest.raises(InvalidRange):
            rpc.booking.stats(offices=["alpha"], date_from="2030-01-02", date_to="2030-01-01")
