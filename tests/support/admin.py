"""Helpers for the administration tests: signed-in API clients and small waits."""
from __future__ import annotations

import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import requests

ADMIN = "admin@my-company.example"
DOMAIN = "my-company.example"


def who(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@{DOMAIN}"


def today(zone: str = "Europe/London") -> date:
    return datetime.now(ZoneInfo(zone)).date()


def day(offset: int, zone: str = "Europe/London") -> str:
    return (today(zone) + timedelta(days=offset)).isoformat()


def zone_and_time_soon(minutes: int = 5) -> tuple[str, str]:
    """A time zone where `minutes` from now is still today (away from midnight), and that local
    time as "HH:MM": a check-in deadline or a draw time that the tests' shifted job clock passes."""
    now = datetime.now(ZoneInfo("UTC"))
    for zone in ("UTC", "Etc/GMT-6", "Etc/GMT+6"):
        local = now.astimezone(ZoneInfo(zone))
        if 1 <= local.hour <= 22:
            return zone, (local + timedelta(minutes=minutes)).strftime("%H:%M")
    raise AssertionError("no zone away from midnight")


def expect(response: requests.Response, status: int, message: str | None = None) -> requests.Response:
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.status_code} " \
                                           f"{response.text[:500]}"
    if status >= 400:
        body = response.json()
        assert body["reference"], body
        if message is not None:
            assert body["message"] == message, body
    return response


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Api:
    """A signed-in user talking to one gateway replica with a bearer token."""

    def __init__(self, stack, email: str, replica: str = "gateway", token: str | None = None):
        self.stack, self.email, self.replica = stack, email, replica
        self.token = token or stack.login(email, replica)["token"]
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def on(self, replica: str) -> Api:
        """The same session (token) talking to another replica."""
        return Api(self.stack, self.email, replica, self.token)

    def url(self, path: str) -> str:
        return self.stack.url(path, self.replica)

    def get(self, path: str, **params) -> requests.Response:
        return self.http.get(self.url(path), params=params, timeout=30)

    def post(self, path: str, json=None, **kwargs) -> requests.Response:
        return self.http.post(self.url(path), json=json, timeout=30, **kwargs)

    def put(self, path: str, json=None) -> requests.Response:
        return self.http.put(self.url(path), json=json, timeout=30)

    def delete(self, path: str) -> requests.Response:
        return self.http.delete(self.url(path), timeout=30)

    # shortcuts
    def me(self) -> dict:
        return expect(self.get("/api/me"), 200).json()

    def book(self, user: str | None = None, office: str = "alpha", date_: str | None = None,
             parking: bool = False) -> requests.Response:
        return self.post("/api/bookings", {"user": user or self.email, "office": office,
                                           "date": date_ or day(1), "parking": parking})


def counter_drift(database_url: str) -> list:
    """Office-days whose counters differ from a recount of the active bookings."""
    with psycopg.connect(database_url) as conn:
        return conn.execute("""
            SELECT c.office, c.date, c.booked, c.booked_parking, count(b.id), count(b.id) FILTER (WHERE b.parking)
            FROM booking.day_counts c
            LEFT JOIN booking.bookings b ON b.office = c.office AND b.date = c.date AND b.status = 'active'
            GROUP BY c.office, c.date, c.booked, c.booked_parking
            HAVING c.booked <> count(b.id) OR c.booked_parking <> count(b.id) FILTER (WHERE b.parking)
        """).fetchall()
