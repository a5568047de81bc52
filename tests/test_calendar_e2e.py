"""SPEC §14 through the gateway against the real services: the calendar feed (a secret URL,
rotated and revoked), the mails' invitations (METHOD:REQUEST, then METHOD:CANCEL with the same UID
and a higher SEQUENCE), each parsed by two independent parsers (Python's `icalendar` and
`ical.js` run with node); recurring patterns booking what is in the window; the range cancel."""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, timedelta

import icalendar
import pytest
import requests

from .support.admin import ADMIN, Api, day, expect, today, wait_until, who
from .support.fixtures import running_stack
from .support.stack import REPO

CONFIG = {"default_weekly_quota": 7, "offices": [
    {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 10},
    {"id": "tiny", "name": "Tiny Office", "quota": 1, "parking_quota": 0},
]}
ICAL_JS = REPO / "tests" / "calendar"


@pytest.fixture(scope="module")
def cstack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("calendar"), CONFIG) as s:
        yield s


@pytest.fixture(scope="module")
def admin(cstack) -> Api:
    return Api(cstack, ADMIN)


def parse_both(text: str) -> tuple[dict, dict]:
    """{uid: (sequence, status)} and the METHOD, by icalendar and by ical.js: they must agree."""
    cal = icalendar.Calendar.from_ical(text)
    py = {"method": str(cal.get("method")) if cal.get("method") else None,
          "events": {str(e["uid"]): (int(e.get("sequence", 0)), str(e["status"]), e.decoded("dtstart").isoformat())
                     for e in cal.walk("VEVENT")}}
    node = shutil.which("node")
    assert node and (ICAL_JS / "node_modules" / "ical.js").exists(), "node and ical.js (npm ci in tests/calendar)"
    out = subprocess.run([node, str(ICAL_JS / "parse.mjs")], input=text, capture_output=True, text=True, timeout=30,
                         check=True).stdout
    parsed = json.loads(out)
    js = {"method": parsed["method"],
          "events": {e["uid"]: (e["sequence"], e["status"], e["start"]) for e in parsed["events"]}}
    assert py == js, (py, js)
    return py, js


def invitation(msg) -> str:
    part = next(p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar")
    content = part.get_content()
    return content.decode() if isinstance(content, bytes) else content


def test_the_feed_and_the_invitations_update_one_event(cstack, admin):
    me = Api(cstack, who("cal"))
    created = expect(me.post("/api/me/calendar"), 201).json()
    url = created["url"]
    assert url.startswith("http://") and url.endswith(".ics") and "/api/calendar/" in url
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    booking = expect(admin.book(user=me.email, date_=day(4)), 201).json()
    uid = f"{booking['id']}@office-booker"

    feed = requests.get(url, timeout=10)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    events = parse_both(feed.text)[0]["events"]
    assert events[uid] == (0, "CONFIRMED", day(4))
    mails = cstack.smtp.wait_for(me.email, count=2)  # sign-in code, confirmation
    confirmation = next(m for m in mails if m["Subject"].startswith("Booking confirmed"))
    sent = parse_both(invitation(confirmation))[0]
    assert sent["method"] == "REQUEST" and sent["events"] == {uid: (0, "CONFIRMED", day(4))}

    expect(admin.delete(f"/api/bookings/{booking['id']}"), 204)  # someone else cancels: the holder is told
    notice = wait_until(lambda: next((m for m in cstack.smtp.to(me.email)
                                      if m["Subject"].startswith("Booking cancelled")), None))
    cancel = parse_both(invitation(notice))[0]
    assert cancel["method"] == "CANCEL" and cancel["events"] == {uid: (1, "CANCELLED", day(4))}
    assert parse_both(requests.get(url, timeout=10).text)[0]["events"][uid] == (1, "CANCELLED", day(4))

    # the token is stored hashed; a new URL replaces the old one; revoking ends it
    import psycopg
    with psycopg.connect(cstack.database_url) as conn:
        stored = conn.execute("SELECT token_hash FROM booking.calendar_feeds WHERE \"user\" = %s",
                              (me.email,)).fetchone()[0]
    assert token not in stored and len(stored) == 64
    rotated = expect(me.post("/api/me/calendar"), 201).json()["url"]
    assert rotated != url and requests.get(url, timeout=10).status_code == 404
    assert requests.get(rotated, timeout=10).status_code == 200
    expect(me.delete("/api/me/calendar"), 204)
    gone = requests.get(rotated, timeout=10)
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    assert requests.get(cstack.url("/api/calendar/made-up-token-that-is-long-enough.ics"), timeout=10
                        ).status_code == 404


def test_a_release_mail_cancels_the_event(cstack, admin):
    me = Api(cstack, who("rel"))
    booking = expect(me.book(date_=day(0)), 201).json()
    expect(me.post(f"/api/bookings/{booking['id']}/release"), 200)
    released = wait_until(lambda: next((m for m in cstack.smtp.to(me.email)
                                        if m["Subject"].startswith("Place released")), None))
    cancel = parse_both(invitation(released))[0]
    assert cancel["method"] == "CANCEL" and cancel["events"] == {f"{booking['id']}@office-booker": (1, "CANCELLED",
                                                                                                   day(0))}


def test_a_pattern_books_its_days_in_the_window_and_reports_refusals(cstack, admin):
    me = Api(cstack, who("regular"))
    first_monday = today() + timedelta(days=(7 - today().weekday()) % 7 or 7)  # the next Monday
    blocker = Api(cstack, who("blocker"))  # Tiny Office's one place on that Tuesday is taken
    tuesday = (first_monday + timedelta(days=1)).isoformat()
    expect(blocker.book(office="tiny", date_=tuesday), 201)
    created = expect(me.post("/api/recurring", {"office": "tiny", "weekdays": [1, 2],
                                                "until": (first_monday + timedelta(days=1)).isoformat()}), 201).json()
    assert set(created) == {"id", "user", "office", "weekdays", "parking", "until", "created_at", "last_results"}
    assert (created["user"], created["office"], created["weekdays"]) == (me.email, "tiny", [1, 2])
    results = {r["date"]: r for r in created["last_results"]}
    assert results[first_monday.isoformat()]["status"] == "booked"
    assert (results[tuesday]["status"], results[tuesday]["message"]) == ("refused", "Office quota exceeded")
    booked = sorted(d for d, r in results.items() if r["status"] == "booked")
    assert first_monday.isoformat() in booked  # (today too, when today is a Monday or Tuesday)
    mine = expect(me.get("/api/bookings"), 200).json()
    assert [(b["date"], b["created_by"]) for b in mine] == [(d, "recurring") for d in booked]
    summary = wait_until(lambda: next((m for m in cstack.smtp.to(me.email)
                                       if m["Subject"].startswith("Regular days")), None))
    assert "Office quota exceeded" in cstack.smtp.text(summary) and "Tiny Office" in cstack.smtp.text(summary)
    listed = expect(me.get("/api/recurring"), 200).json()
    assert [p["id"] for p in listed] == [created["id"]]
    # bad fields are named; someone else's pattern needs admin rights
    bad = expect(me.post("/api/recurring", {"office": "tiny", "weekdays": [0]}), 400).json()
    assert bad["message"].startswith("Invalid weekdays") and bad["code"] == "invalid_field"
    expect(me.post("/api/recurring", {"office": "tiny", "weekdays": [1], "user": who()}), 403)
    expect(me.delete(f"/api/recurring/{created['id']}"), 204)
    assert expect(me.get("/api/recurring"), 200).json() == []
    assert len(expect(me.get("/api/bookings"), 200).json()) == len(booked)  # its bookings stay
    expect(me.delete(f"/api/recurring/{created['id']}"), 404)


def test_range_cancel_cancels_what_may_be_cancelled_and_says_what_was_kept(cstack, admin):
    me = Api(cstack, who("holiday"))
    today_booking = expect(me.book(date_=day(0)), 201).json()  # its day has started: the owner cannot cancel it
    later = [expect(me.book(date_=day(n)), 201).json() for n in (2, 3, 5)]
    outside = expect(me.book(date_=day(9)), 201).json()
    other = expect(me.book(office="tiny", date_=day(3)), 201).json()
    answer = expect(me.post("/api/bookings/cancel-range", {"from": day(0), "to": day(6), "office": "alpha"}),
                    200).json()
    assert answer == {"cancelled": 3, "kept": [{"id": today_booking["id"],
                                                "message": "No longer able to cancel booking"}]}
    left = {b["id"] for b in expect(me.get("/api/bookings"), 200).json()}
    assert left == {today_booking["id"], outside["id"], other["id"]}
    assert not left & {b["id"] for b in later}
    bad = expect(me.post("/api/bookings/cancel-range", {"from": day(6), "to": day(0)}), 400).json()
    assert bad["code"] == "invalid_range"
    expect(me.post("/api/bookings/cancel-range", {"from": "2027-02-30", "to": day(0)}), 400)
    # another user's bookings are never touched
    assert expect(admin.get(f"/api/bookings?user={me.email}"), 200).status_code == 200
    assert date.fromisoformat(outside["date"]) > date.fromisoformat(day(6))
