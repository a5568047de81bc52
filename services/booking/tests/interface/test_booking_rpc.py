"""Booking's RPCs against the running service and database."""
import psycopg
import pytest

from services.booking.exceptions import InvalidRange


def test_slots_count_from_the_counters(stack):
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO booking.day_counts (office, date, booked, booked_parking) "
                     "VALUES ('gamma', '2030-01-02', 3, 1)")
    with stack.rpc() as rpc:
        slots = rpc.booking.get_slots("gamma", ["2030-01-01", "2030-01-02"])
    assert slots == [{"date": "2030-01-01", "booked": 0, "booked_parking": 0},
                     {"date": "2030-01-02", "booked": 3, "booked_parking": 1}]


def test_bad_dates_are_typed_errors(stack):
    with stack.rpc() as rpc:
        with pytest.raises(InvalidRange):
            rpc.booking.get_slots("alpha", ["2030-02-30"])
