"""The door check tells a scanner only what is theirs to know."""
from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from tests.support.admin import ADMIN


def today() -> str:
    return datetime.now(ZoneInfo("Europe/London")).date().isoformat()


def test_a_pass_for_an_office_the_scanner_does_not_manage_shows_only_that_office(stack):
    admin = stack.client(ADMIN)
    holder = f"door-{uuid.uuid4().hex[:8]}@my-company.example"
    scanner = f"beta-security-{uuid.uuid4().hex[:8]}@my-company.example"
    r = admin.put(stack.url(f"/api/users/{scanner}"), json={"role": {"name": "Office Admin", "offices": ["beta"]}},
                  timeout=10)
    assert r.status_code == 200, r.text
    booking = admin.post(stack.url("/api/bookings"), json={"user": holder, "office": "alpha", "date": today(),
                                                           "parking": True}, timeout=10).json()
    code = admin.get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10).json()["code"]
    at_beta = stack.client(scanner).post(stack.url("/api/passes/verify"), json={"code": code, "office": "beta"},
                                         timeout=10)
    assert at_beta.status_code == 200
    assert at_beta.json() == {"valid": False, "status": "wrong_office", "office": {"id": "alpha", "name": "Office Alpha"},
                              "checked_in_at": None, "first_check_in": False}
    assert holder not in at_beta.text and booking["id"] not in at_beta.text


def test_a_repeat_scan_says_it_is_one(stack):
    admin = stack.client(ADMIN)
    booking = admin.post(stack.url("/api/bookings"), json={
        "user": f"repeat-{uuid.uuid4().hex[:8]}@my-company.example", "office": "alpha", "date": today(),
        "parking": False}, timeout=10).json()
    code = admin.get(stack.url(f"/api/bookings/{booking['id']}/pass"), timeout=10).json()["code"]
    scan = lambda: admin.post(stack.url("/api/passes/verify"), json={"code": code, "office": "alpha"},  # noqa: E731
                              timeout=10).json()
    first, second = scan(), scan()
    assert (first["status"], first["first_check_in"]) == ("ok", True)
    assert (second["status"], second["first_check_in"]) == ("ok", False)
    assert second["checked_in_at"] == first["checked_in_at"]


def test_idempotency_fingerprints_are_keyed(stack):
    """SPEC §4: the reason to book is stored nowhere else, so its fingerprint must not confirm a
    guess (an unsalted SHA-256 of the request would)."""
    import hashlib
    import json

    user = f"fingerprint-{uuid.uuid4().hex[:8]}@my-company.example"
    key = uuid.uuid4().hex
    client = stack.client(user)
    request = {"user": user, "office": "beta", "date": today(), "parking": False, "reason": None}
    r = client.post(stack.url("/api/bookings"), json=request, headers={"Idempotency-Key": key}, timeout=10)
    assert r.status_code == 201, r.text
    with psycopg.connect(stack.database_url) as conn:
        [stored] = conn.execute("SELECT fingerprint FROM booking.idempotency_keys WHERE key = %s", (key,)).fetchone()
    canonical = {k: request.get(k) for k in ("user", "office", "date", "parking", "reason")}
    assert stored != hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    assert len(stored) == 64
    # and the key still does its job: a retry is answered with the first booking
    again = client.post(stack.url("/api/bookings"), json=request, headers={"Idempotency-Key": key}, timeout=10)
    assert again.status_code in (200, 201) and again.json()["id"] == r.json()["id"]
