"""Virtual passes, door checks and live availability through the gateway (SPEC §5, §9)."""
from __future__ import annotations

import base64
import json
import queue
import threading
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from obcommon.messaging import wait_for

ADMIN = "admin@my-company.example"


def day(offset: int) -> str:
    return (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=offset)).isoformat()


def who() -> str:
    return f"pass-{uuid.uuid4().hex[:8]}@my-company.example"


def book(client, stack, user, office="alpha", date_=None):
    r = client.post(stack.url("/api/bookings"), json={"user": user, "office": office, "date": date_ or day(0)},
                    timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_owner_and_admins_get_a_signed_pass(stack):
    owner, other, admin = who(), who(), stack.client(ADMIN)
    me = stack.client(owner)
    booking = book(me, stack, owner, date_=day(1))
    r = me.get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["booking"] == booking
    assert booking["id"] != body["code"] and len(body["code"]) > 40
    assert admin.get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10).json()["code"] == body["code"]
    assert stack.client(other).get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10).status_code == 403
    assert me.get(stack.url(f"/api/bookings/{uuid.uuid4().hex}/pass"), timeout=10).status_code == 404


def verify(client, stack, code, office="alpha"):
    r = client.post(stack.url("/api/passes/verify"), json={"code": code, "office": office}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_door_check_statuses_and_the_first_scan_checks_in(stack):
    admin = stack.client(ADMIN)
    today_user, tomorrow_user, cancelled_user = who(), who(), who()
    today = book(admin, stack, today_user, date_=day(0))
    tomorrow = book(admin, stack, tomorrow_user, date_=day(1))
    cancelled = book(admin, stack, cancelled_user, date_=day(0))
    code = lambda b: admin.get(stack.url(f"/api/bookings/{b['id']}/pass"), timeout=10).json()["code"]  # noqa: E731
    today_code, tomorrow_code, cancelled_code = code(today), code(tomorrow), code(cancelled)
    assert admin.delete(stack.url(f"/api/bookings/{cancelled['id']}"), timeout=10).status_code == 204

    first = verify(admin, stack, today_code)
    assert first["valid"] is True and first["status"] == "ok"
    assert first["checked_in_at"] and first["checked_in_at"].endswith("Z")
    assert first["booking"]["id"] == today["id"] and first["booking"]["checked_in_at"] == first["checked_in_at"]
    assert first["first_check_in"] is True
    again = verify(admin, stack, today_code)
    assert again["status"] == "ok" and again["checked_in_at"] == first["checked_in_at"]  # recorded once
    assert again["first_check_in"] is False  # the door sees a repeat scan for what it is

    assert verify(admin, stack, tomorrow_code)["status"] == "wrong_day"
    assert verify(admin, stack, today_code, office="beta")["status"] == "wrong_office"  # tests/security
    result = verify(admin, stack, cancelled_code)
    assert (result["valid"], result["status"]) == (False, "cancelled")
    assert verify(admin, stack, tomorrow_code)["checked_in_at"] is None


def test_forged_or_damaged_codes_are_invalid(stack):
    admin = stack.client(ADMIN)
    user = who()
    booking = book(admin, stack, user, date_=day(0))
    code = admin.get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10).json()["code"]
    payload, _, signature = code.partition(".")
    forged_payload = base64.urlsafe_b64encode(json.dumps({"b": uuid.uuid4().hex}).encode()).decode().rstrip("=")
    for bad in (code[:-2] + ("AA" if not code.endswith("AA") else "BB"), f"{forged_payload}.{signature}",
                booking["id"], "", "not a code at all"):
        result = verify(admin, stack, bad)
        assert result == {"valid": False, "status": "invalid", "checked_in_at": None, "first_check_in": False}, bad


def test_only_admins_of_the_office_may_verify(stack):
    user = who()
    me = stack.client(user)
    booking = book(me, stack, user, date_=day(1))
    code = me.get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10).json()["code"]
    r = me.post(stack.url("/api/passes/verify"), json={"code": code, "office": "alpha"}, timeout=10)
    assert r.status_code == 403 and r.json()["message"] == "Forbidden"
    assert requests.post(stack.url("/api/passes/verify"), json={"code": code, "office": "alpha"},
                         timeout=10).status_code == 401
    r = stack.client(ADMIN).post(stack.url("/api/passes/verify"), json={"code": 5, "office": "alpha"}, timeout=10)
    assert r.status_code == 400


def test_check_in_is_audited(stack):
    admin = stack.client(ADMIN)
    booking = book(admin, stack, who(), date_=day(0))
    code = admin.get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10).json()["code"]
    verify(admin, stack, code)

    def check_in_records() -> list:
        with stack.rpc() as rpc:
            return [r for r in rpc.audit.list_records(actor=ADMIN, limit=200)["records"]
                    if r["entity_id"] == booking["id"] and r["action"] == "booking_checked_in"]

    records = wait_for(check_in_records, timeout=10, interval=0.2, what="the check-in's audit record")
    assert records[0]["after"]["checked_in_at"] and records[0]["before"]["checked_in_at"] is None


# ------------------------------------------------------------------------------ live availability


class EventStream:
    """Reads a text/event-stream in a thread, one dict per event. Returns once the stream's first
    line (`retry:`, sent after the replica subscribed it) has arrived: later events reach it."""

    def __init__(self, url: str, headers: dict):
        self.events: queue.Queue = queue.Queue()
        self.opened = threading.Event()
        self.response = requests.get(url, headers=headers, stream=True, timeout=30)
        assert self.response.status_code == 200
        assert self.response.headers["Content-Type"].startswith("text/event-stream")
        threading.Thread(target=self._read, daemon=True).start()
        assert self.opened.wait(10), "the event stream sent nothing"

    def _read(self) -> None:
        event: dict = {}
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                self.opened.set()
                if line == "":
                    if "data" in event:
                        self.events.put(event)
                    event = {}
                elif not line.startswith(":") and ":" in line:
                    key, _, value = line.partition(":")
                    event[key] = value.strip()
        except Exception:  # noqa: BLE001 - closed by the test
            pass

    def next_for(self, office: str, date: str, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            data = json.loads(event["data"])
            if (data["office"], data["date"]) == (office, date):
                return {**event, "data": data}

    def close(self) -> None:
        self.response.close()


def test_live_availability_reaches_every_replica_and_resumes(stack):
    if "gateway2" not in stack.processes:
        stack.launch("gateway", key="gateway2")
        stack.wait_ready()
    user = who()
    token = stack.login(user)["token"]
    auth = {"Authorization": f"Bearer {token}"}
    admin = stack.client(ADMIN)
    date_ = day(3)
    on_second = EventStream(stack.url("/api/events", "gateway2"), auth)
    book(admin, stack, who(), office="beta", date_=date_)  # through the first replica
    event = on_second.next_for("beta", date_)
    assert event["event"] == "availability" and event["id"]
    assert set(event["data"]) == {"office", "date", "booked", "booked_parking"}
    booked = event["data"]["booked"]
    on_second.close()

    # while disconnected, two more bookings; reconnect to the other replica and resume
    book(admin, stack, who(), office="beta", date_=date_)
    book(admin, stack, who(), office="beta", date_=date_)
    # (the replica subscribes the stream and takes the backlog at once: events that reach it after
    # that come live, in order)
    resumed = EventStream(stack.url("/api/events", "gateway"), {**auth, "Last-Event-ID": event["id"]})
    missed = [resumed.next_for("beta", date_)["data"]["booked"] for _ in range(2)]
    resumed.close()
    assert missed == [booked + 1, booked + 2]


def test_events_need_a_session_but_a_cookie_is_enough(stack):
    assert requests.get(stack.url("/api/events"), timeout=10).status_code == 401
    user = who()
    login = requests.Session()
    requests.post(stack.url("/api/auth/code"), json={"email": user}, timeout=10)
    r = login.post(stack.url("/api/auth/verify"), json={"email": user, "code": stack.smtp.code_for(user)}, timeout=10)
    stream = EventStream(stack.url("/api/events"), {"Cookie": f"ob_session={r.cookies['ob_session']}"})
    stream.close()
