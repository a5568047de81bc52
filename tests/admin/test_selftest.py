"""The self-test (POST /api/selftest): books and cancels for the self-test user, off without a key."""
from __future__ import annotations

import requests

from ..support.admin import day, expect
from .common import SELFTEST_KEY

# ------------------------------------------------------------------------------ self-test


def test_selftest_books_and_cancels_for_the_selftest_user(astack, admin):
    url = astack.url("/api/selftest")
    expect(requests.post(url, timeout=30), 403, "Forbidden")
    expect(requests.post(url, headers={"X-Selftest-Key": "wrong-key-wrong-key-wrong"}, timeout=30), 403, "Forbidden")
    r = expect(requests.post(url, headers={"X-Selftest-Key": SELFTEST_KEY}, timeout=30), 200).json()
    assert r == {"office": "alpha", "user": "selftest@my-company.example", "bookings": 1, "date": day(1)}
    listed = expect(admin.get("/api/bookings", user="selftest@my-company.example", include_cancelled="true"), 200).json()
    assert [b["status"] for b in listed if b["date"] == day(1) and b["office"]["id"] == "alpha"][-1] == "cancelled"
    assert not [b for b in listed if b["status"] == "active"]
    again = expect(requests.post(url, headers={"X-Selftest-Key": SELFTEST_KEY}, timeout=30), 200).json()
    assert again["bookings"] == 1  # repeatable: the place was freed


def test_selftest_is_off_without_a_key(stack):
    expect(requests.post(stack.url("/api/selftest"), headers={"X-Selftest-Key": "x" * 30}, timeout=30), 404,
           "Not Found")
