"""The admin tests' configuration and helpers (the stack itself: conftest.py)."""
from __future__ import annotations

import time

from ..support.admin import Api, expect, who

OFFICES = [
    {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 50},
    {"id": "beta", "name": "Office Beta", "quota": 50, "parking_quota": 10},
    {"id": "tiny", "name": "Tiny", "quota": 3, "parking_quota": 1},
    {"id": "old", "name": "Old Office", "quota": 10, "parking_quota": 0, "retired": True},
]
CONFIG = {"offices": OFFICES, "default_weekly_quota": 3, "advance_booking_days": 14, "data_retention_days": 30}
SELFTEST_KEY = "selftest-key-for-the-admin-tests-0123"


def office_admin(stack, admin: Api, offices: list[str], email: str | None = None) -> Api:
    email = email or who("oa")
    expect(admin.put(f"/api/users/{email}", {"role": {"name": "Office Admin", "offices": offices}}), 200)
    return Api(stack, email)


def audit_records(stack, **filters) -> list[dict]:
    with stack.rpc() as rpc:
        return rpc.audit.list_records(limit=200, **filters)["records"]


def within(seconds: float, predicate) -> float:
    """How long until `predicate()` holds; fails if that is more than `seconds`."""
    started = time.monotonic()
    while not predicate():
        elapsed = time.monotonic() - started
        assert elapsed <= seconds, f"not within {seconds}s"
        time.sleep(0.02)
    return time.monotonic() - started
