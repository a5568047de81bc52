"""Waitlist promotions and a ballot draw while a fault happens (SPEC §12, §13): the scenario of
`test_faults.py`'s queue tests. A full day's holders cancel (retrying on 5xx or no answer) while
waiters queue for it, and a ballot office's day is drawn at the same moment; the fault lands in
the middle. Afterwards: every freed place went to exactly one entry (one booking, one audit
record, one mail), nobody waits while an eligible place is free, the day was drawn once (one
`ballot_draws` row, one `ballot_drawn` record, statuses as its outcome, the losers queued), and
the counters equal a recount."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import requests

from tests.support.admin import counter_drift

ADMIN = "admin@my-company.example"
HOLDERS, WAITERS, REQUESTERS = 8, 12, 16
BALLOT_PLACES = 6


def _user(tag: str) -> str:
    return f"q{tag}-{uuid.uuid4().hex[:8]}@my-company.example"


def _send(method: str, url: str, headers: dict, body: dict | None = None, give_up: float = 60) -> tuple[int, list]:
    """Retry on 5xx or no answer, like a careful client; (final status, statuses of every attempt)."""
    seen, deadline, delay = [], time.monotonic() + give_up, 0.2
    while True:
        try:
            status = requests.request(method, url, json=body, headers=headers, timeout=(3, 15)).status_code
        except requests.RequestException:
            status = 0
        seen.append(status)
        if 0 < status < 500 or time.monotonic() > deadline:
            return status, seen
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _next_minute(zone: str) -> tuple[datetime, str]:
    """The next whole minute at least 20 s away (the draw time), as a moment and "HH:MM"."""
    now = datetime.now(ZoneInfo(zone))
    moment = (now + timedelta(seconds=80)).replace(second=0, microsecond=0)
    return moment, moment.strftime("%H:%M")


class QueueScenario:
    def __init__(self, rig):
        self.rig, self.stack = rig, rig.stack
        self.admin = {"Authorization": f"Bearer {self.stack.login(ADMIN)['token']}"}
        self.url = self.stack.gateway_url
        self.problems: list[str] = []

    def _post(self, path: str, body: dict, expect: int) -> dict:
        r = requests.post(self.url + path, json=body, headers=self.admin, timeout=30)
        assert r.status_code == expect, f"POST {path}: {r.status_code} {r.text[:300]}"
        return r.json()

    def prepare(self) -> None:
        """A full day with a queue, and a ballot day with more requests than places, drawn soon."""
        tag = uuid.uuid4().hex[:6]
        self.full = f"qfull-{tag}"
        self.day = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=3)).isoformat()
        self._post("/api/offices", {"id": self.full, "name": "Queue", "quota": HOLDERS, "parking_quota": 0}, 201)
        zone = "UTC" if datetime.now(UTC).hour < 23 else "Etc/GMT+2"
        self.draw_moment, draw_time = _next_minute(zone)
        self.ballot = f"qballot-{tag}"
        self._post("/api/offices", {"id": self.ballot, "name": "Ballot", "quota": BALLOT_PLACES, "parking_quota": 0,
                                    "timezone": zone, "allocation": "ballot", "ballot_draw_days_before": 2,
                                    "ballot_draw_time": draw_time}, 201)
        self.ballot_day = (self.draw_moment.date() + timedelta(days=2)).isoformat()
        self.holdings = [self._book_until(self.full, self.day) for _ in range(HOLDERS)]
        self.waiters = [_user("w") for _ in range(WAITERS)]
        for u in self.waiters:
            self._post("/api/waitlist", {"user": u, "office": self.full, "date": self.day}, 201)
        self.requesters = [_user("r") for _ in range(REQUESTERS)]
        for u in self.requesters:
            self._post("/api/bookings", {"user": u, "office": self.ballot, "date": self.ballot_day}, 202)

    def _book_until(self, office: str, day: str) -> tuple[dict, str]:
        """A holder's booking (retrying while booking's copy of a just-created office lags)."""
        user = _user("h")
        for _ in range(100):
            r = requests.post(self.url + "/api/bookings", json={"user": user, "office": office, "date": day},
                              headers=self.admin, timeout=30)
            if r.status_code == 201:
                return r.json(), user
            time.sleep(0.1)
        raise AssertionError(f"could not book {office} {day}: {r.status_code} {r.text[:200]}")

    def run(self, fault) -> list[str]:
        """The holders cancel one after another around the draw moment; `fault()` at the moment."""
        self.prepare()
        wait = (self.draw_moment - datetime.now(UTC)).total_seconds() - 2
        time.sleep(max(0.0, wait))
        outcomes: list = []

        def cancel_all():
            for booking, _ in self.holdings:
                outcomes.append(_send("DELETE", f"{self.url}/api/bookings/{booking['id']}", self.admin))
                time.sleep(0.3)

        canceller = threading.Thread(target=cancel_all, daemon=True)
        canceller.start()
        time.sleep(2.0)
        fault()
        canceller.join(timeout=120)
        for final, seen in outcomes:
            if not (final == 204 or (final == 404 and any(s == 0 or s >= 500 for s in seen[:-1]))):
                self.problems.append(f"a holder's cancellation ended {final} (attempts {seen})")
        self._wait_and_check()
        return self.problems

    def _wait_and_check(self) -> None:
        url = self.stack.database_url
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with psycopg.connect(url) as conn:
                drawn = conn.execute("SELECT seed FROM booking.ballot_draws WHERE office = %s AND date = %s",
                                     (self.ballot, self.ballot_day)).fetchall()
                records = conn.execute("SELECT after FROM audit.records WHERE action = 'ballot_drawn' AND office = %s",
                                       (self.ballot,)).fetchall()
                promoted_audit = conn.execute("SELECT entity_id FROM audit.records WHERE action = 'waitlist_promoted'"
                                              " AND office = %s", (self.full,)).fetchall()
                entries = conn.execute("SELECT id, status, booking_id, \"user\" FROM booking.waitlist"
                                       " WHERE office = %s", (self.full,)).fetchall()
                active = conn.execute("SELECT id, \"user\", created_by FROM booking.bookings WHERE office = %s"
                                      " AND date = %s AND status = 'active'", (self.full, self.day)).fetchall()
                ballot = dict(conn.execute("SELECT id, status FROM booking.bookings WHERE office = %s",
                                           (self.ballot,)).fetchall())
            promoted = [e for e in entries if e[1] == "promoted"]
            if drawn and records and len(promoted_audit) == len(promoted) == HOLDERS \
                    and self._mails_in(promoted, records):
                break
            time.sleep(0.5)
        if len(drawn) != 1 or len(records) != 1:
            self.problems.append(f"the ballot day was drawn {len(drawn)} times, {len(records)} audit records")
            return
        record = records[0][0]
        if sorted(ballot) != sorted(record["order"]) or any(
                ballot[i] != ("active" if o == "won" else "waitlisted") for i, o in record["outcome"].items()):
            self.problems.append(f"ballot statuses differ from the recorded outcome: {ballot} vs {record['outcome']}")
        if list(record["outcome"].values()).count("won") != BALLOT_PLACES:
            self.problems.append(f"{list(record['outcome'].values()).count('won')} won, want {BALLOT_PLACES}")
        # every freed place went to exactly one entry: one booking, one audit record
        made = {b[0]: b for b in active if b[2] == "waitlist"}
        if len(promoted) != HOLDERS or {e[2] for e in promoted} != set(made):
            self.problems.append(f"{len(promoted)} entries promoted to {len(made)} waitlist bookings, want {HOLDERS}")
        if sorted(r[0] for r in promoted_audit) != sorted(e[0] for e in promoted):
            self.problems.append("waitlist_promoted audit records differ from the promoted entries")
        if len(active) > HOLDERS:
            self.problems.append(f"{len(active)} active bookings on a day of {HOLDERS} places")
        drift = counter_drift(url)
        if drift:
            self.problems.append(f"counters differ from a recount: {drift}")
        for user in {e[3] for e in promoted}:
            got = [m for m in self.stack.smtp.to(user) if str(m["Subject"]).startswith("You have a place")]
            if len({str(m["Message-ID"]) for m in got}) != 1:
                self.problems.append(f"{user}: {len(got)} promotion mails")
        for user in self.requesters:
            got = [m for m in self.stack.smtp.to(user) if str(m["Subject"]).startswith("Ballot result")]
            if len({str(m["Message-ID"]) for m in got}) != 1:
                self.problems.append(f"{user}: {len(got)} ballot result mails")

    def _mails_in(self, promoted, records) -> bool:
        users = {e[3] for e in promoted}
        return all(any(str(m["Subject"]).startswith("You have a place") for m in self.stack.smtp.to(u)) for u in users) \
            and all(any(str(m["Subject"]).startswith("Ballot result") for m in self.stack.smtp.to(u))
                    for u in self.requesters)
