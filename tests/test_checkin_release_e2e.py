"""Check-in and release of no-shows through the gateway (SPEC §11): the office's deadline, door
codes and check-ins, "I'm not coming" (signed in and by the mail's link), passes, listings, stats.
The release job at the deadline is in services/booking/tests/interface/test_release_job.py."""
from __future__ import annotations

import time
import urllib.parse

import pytest

from tests.support.admin import ADMIN, Api, day, expect, wait_until, who

FORBIDDEN_BEFORE_DAY = "Not yet the booking day: cancel the booking instead"


@pytest.fixture(scope="module")
def admin_api(stack) -> Api:
    return Api(stack, ADMIN)  # one sign-in: sign-in codes are rate-limited per address


def new_office(admin: Api, **fields) -> dict:
    office_id = f"ci-{time.monotonic_ns() % 10**9}"
    body = {"id": office_id, "name": f"Check-in {office_id}", "quota": 5, "parking_quota": 2, **fields}
    office = expect(admin.post("/api/offices", body), 201).json()
    return office


def test_office_deadline_is_validated_accepted_and_returned(stack, admin_api):
    admin = admin_api
    office = new_office(admin)
    assert office["check_in_deadline"] is None  # config default_check_in_deadline: null
    office = new_office(admin, check_in_deadline="09:30")
    assert office["check_in_deadline"] == "09:30"
    for bad in ("9:30", "24:00", "09:30:00", "", 930):
        r = expect(admin.post("/api/offices", {"id": f"bad-{time.monotonic_ns()}", "name": "Bad", "quota": 1,
                                               "check_in_deadline": bad}), 400)
        assert "check_in_deadline" in r.json()["message"], r.json()
        r = expect(admin.put(f"/api/offices/{office['id']}", {"check_in_deadline": bad}), 400)
        assert "check_in_deadline" in r.json()["message"], r.json()
    assert expect(admin.put(f"/api/offices/{office['id']}", {"check_in_deadline": "11:15"}), 200).json()[
        "check_in_deadline"] == "11:15"
    assert expect(admin.get(f"/api/offices/{office['id']}"), 200).json()["check_in_deadline"] == "11:15"
    # null removes it (no automatic release)
    assert expect(admin.put(f"/api/offices/{office['id']}", {"check_in_deadline": None}), 200).json()[
        "check_in_deadline"] is None
    listed = wait_until(lambda: next((o for o in expect(admin.get("/api/offices"), 200).json()
                                      if o["id"] == office["id"] and o["check_in_deadline"] is None), None))
    assert listed
    # only System Admins manage offices
    expect(Api(stack, who("ci")).put(f"/api/offices/{office['id']}", {"check_in_deadline": "10:00"}), 403)


def _door_code(admin: Api, office_id: str) -> dict:
    return expect(admin.get(f"/api/offices/{office_id}/door-code"), 200).json()


def test_door_code_and_check_in(stack, admin_api):
    admin = admin_api
    office = new_office(admin, timezone="Europe/London")
    door = _door_code(admin, office["id"])
    assert set(door) == {"code", "url", "expires_at"}
    assert door["expires_at"].endswith("Z")
    parsed = urllib.parse.urlparse(door["url"])
    assert parsed.path == "/checkin" and urllib.parse.parse_qs(parsed.query)["code"] == [door["code"]]
    # only admins of that office get it
    user = Api(stack, who("ci"))
    expect(user.get(f"/api/offices/{office['id']}/door-code"), 403, "Forbidden")
    expect(admin.get("/api/offices/no-such-office/door-code"), 404)

    # no booking today at this office
    expect(user.post("/api/checkins", {"code": door["code"]}), 404, "No booking today at this office")
    assert user.post("/api/checkins", {"code": door["code"]}).json()["code"] == "no_booking_today"
    booking = expect(user.book(office=office["id"], date_=day(0, "Europe/London")), 201).json()
    first = expect(user.post("/api/checkins", {"code": door["code"]}), 200).json()
    assert first["booking"]["id"] == booking["id"] and first["booking"]["checked_in_at"]
    assert first["first_check_in"] is True
    again = expect(user.post("/api/checkins", {"code": door["code"]}), 200).json()
    assert again["booking"]["checked_in_at"] == first["booking"]["checked_in_at"]  # the first time
    assert again["first_check_in"] is False

    # forged, damaged, another office's code: 400
    for bad in (door["code"] + "x", "nonsense", door["code"][:-3]):
        r = expect(user.post("/api/checkins", {"code": bad}), 400, "Invalid or expired door code")
        assert r.json()["code"] == "invalid_door_code"
    other = new_office(admin)
    other_code = _door_code(admin, other["id"])["code"]
    expect(user.post("/api/checkins", {"code": other_code}), 404, "No booking today at this office")
    expect(user.post("/api/checkins", {}), 400, "Bad request body")

    # the security scan of a pass checked in too, and says so
    pass_code = expect(user.get(f"/api/bookings/{booking['id']}/pass"), 200).json()["code"]
    scan = expect(admin.post("/api/passes/verify", {"code": pass_code, "office": office["id"]}), 200).json()
    assert scan["status"] == "ok" and scan["checked_in_at"] == first["booking"]["checked_in_at"]

    # the audit trail has one check-in
    records = expect(admin.get("/api/audit", office=office["id"]), 200).json()["records"]
    assert [r["action"] for r in records if r["entity_id"] == booking["id"]].count("booking_checked_in") == 1


def test_an_expired_door_code_is_refused(stack, admin_api):
    """The code carries its issue time: after 90 s it is refused (checked with a code signed 91 s
    ago by the same key, as the gateway would have issued it then)."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from obcommon.config import Env
    from tests.support.admin import today

    admin = admin_api
    office = new_office(admin)
    user = Api(stack, who("ci"))
    expect(user.book(office=office["id"], date_=day(0)), 201)
    key = Env.from_environ({"SECRET_KEY": stack.env["SECRET_KEY"]}).derive_key("door-codes")

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 91

    signer = URLSafeTimedSerializer(key, salt="office-booker/door-code", signer=Then)
    old = signer.dumps({"o": office["id"], "d": today().isoformat()})
    expect(user.post("/api/checkins", {"code": old}), 400, "Invalid or expired door code")
    recent = URLSafeTimedSerializer(key, salt="office-booker/door-code").dumps(
        {"o": office["id"], "d": today().isoformat()})
    expect(user.post("/api/checkins", {"code": recent}), 200)
    # a code naming another day of the office is refused (no replay across days)
    yesterday = URLSafeTimedSerializer(key, salt="office-booker/door-code").dumps(
        {"o": office["id"], "d": day(-1)})
    expect(user.post("/api/checkins", {"code": yesterday}), 400, "Invalid or expired door code")


def test_release_by_the_owner_and_admins(stack, admin_api):
    admin = admin_api
    office = new_office(admin)  # no deadline: the owner may release all day
    owner = Api(stack, who("ci"))
    booking = expect(owner.book(office=office["id"], date_=day(0), parking=True), 201).json()
    slot = lambda: next(s for s in expect(owner.get(f"/api/offices/{office['id']}"), 200).json()["slots"]  # noqa
                        if s["date"] == day(0))
    assert (slot()["booked"], slot()["booked_parking"]) == (1, 1)

    # someone else: 403; unknown: 404
    expect(Api(stack, who("ci")).post(f"/api/bookings/{booking['id']}/release"), 403, "Forbidden")
    expect(owner.post("/api/bookings/0123456789abcdef0123456789abcdef/release"), 404, "Not Found")
    expect(owner.post("/api/bookings/not-an-id/release"), 404)

    released = expect(owner.post(f"/api/bookings/{booking['id']}/release"), 200).json()
    assert released["status"] == "released" and released["released_at"].endswith("Z")
    assert (slot()["booked"], slot()["booked_parking"]) == (0, 0)  # freed at once
    # the same again: the same booking, nothing more freed
    again = expect(owner.post(f"/api/bookings/{booking['id']}/release"), 200).json()
    assert again["released_at"] == released["released_at"] and slot()["booked"] == 0
    # cancel after release: it is not active any more
    expect(owner.delete(f"/api/bookings/{booking['id']}"), 404)

    # listings leave it out unless include_cancelled=true
    assert booking["id"] not in [b["id"] for b in expect(owner.get("/api/bookings"), 200).json()]
    listed = expect(owner.get("/api/bookings", include_cancelled="true"), 200).json()
    assert [b["status"] for b in listed if b["id"] == booking["id"]] == ["released"]

    # its pass verifies as released, and no check-in is recorded
    code = expect(owner.get(f"/api/bookings/{booking['id']}/pass"), 200).json()["code"]
    scan = expect(admin.post("/api/passes/verify", {"code": code, "office": office["id"]}), 200).json()
    assert (scan["valid"], scan["status"], scan["checked_in_at"]) == (False, "released", None)
    # a door check-in after release is refused
    door = _door_code(admin, office["id"])["code"]
    expect(owner.post("/api/checkins", {"code": door}), 404, "No booking today at this office")

    # the place can be booked again by the same user
    expect(owner.book(office=office["id"], date_=day(0)), 201)

    # before the day: cancel instead (403); the admin too
    future = expect(owner.book(office=office["id"], date_=day(2)), 201).json()
    r = expect(owner.post(f"/api/bookings/{future['id']}/release"), 403, FORBIDDEN_BEFORE_DAY)
    assert r.json()["code"] == "release_before_day"
    expect(admin.post(f"/api/bookings/{future['id']}/release"), 403, FORBIDDEN_BEFORE_DAY)

    # mails and audit: the holder is told, one booking_released record with the owner as actor
    mails = stack.smtp.wait_for(owner.email, count=1 + 3 + 1)  # sign-in, 3 confirmations, 1 release
    assert [m["Subject"] for m in mails].count(f"Place released: {office['name']}, {day(0)}") == 1
    records = wait_until(lambda: [r for r in expect(admin.get("/api/audit", office=office["id"]), 200).json()[
        "records"] if r["entity_id"] == booking["id"] and r["action"] == "booking_released"])
    assert len(records) == 1 and records[0]["actor"] == owner.email


def test_owner_past_the_deadline_is_refused_admins_may(stack, admin_api):
    admin = admin_api
    office = new_office(admin, check_in_deadline="00:00")  # today's deadline has passed everywhere
    owner = Api(stack, who("ci"))
    booking = expect(owner.book(office=office["id"], date_=day(0)), 201).json()
    r = expect(owner.post(f"/api/bookings/{booking['id']}/release"), 403, "No longer able to release booking")
    assert r.json()["code"] == "too_late_to_release"
    # the job does not release it: the booking was made after today's deadline (and the deadline
    # was set after it), so it was never a no-show
    time.sleep(6)
    assert expect(owner.get("/api/bookings"), 200).json()[0]["status"] == "active"
    released = expect(admin.post(f"/api/bookings/{booking['id']}/release"), 200).json()
    assert released["status"] == "released"


def test_release_link_needs_no_sign_in_and_only_releases_on_confirm(stack, admin_api):
    import requests

    admin = admin_api
    office = new_office(admin)
    owner = Api(stack, who("ci"))
    booking = expect(owner.book(office=office["id"], date_=day(0)), 201).json()
    mail = stack.smtp.wait_for(owner.email, count=2)[-1]  # the sign-in code, then the confirmation
    assert mail["Subject"].startswith("Booking confirmed")
    text = stack.smtp.text(mail)
    link = next(line.strip() for line in text.splitlines() if "/release?token=" in line)
    token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["token"][0]

    anonymous = requests.Session()
    shown = anonymous.get(stack.url("/api/release-links"), params={"token": token}, timeout=10)
    assert shown.status_code == 200 and shown.json()["id"] == booking["id"]
    assert shown.json()["status"] == "active"  # opening it released nothing
    bad = anonymous.post(stack.url("/api/release-links"), json={"token": token + "x"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["message"] == "Invalid release link"
    done = anonymous.post(stack.url("/api/release-links"), json={"token": token}, timeout=10)
    assert done.status_code == 200 and done.json()["status"] == "released"
    assert expect(owner.get(f"/api/bookings/{booking['id']}/pass"), 200).json()["booking"]["status"] == "released"


def test_stats_have_checked_in_released_and_no_show_rate(stack, admin_api):
    admin = admin_api
    office = new_office(admin)
    users = [Api(stack, who("ci")) for _ in range(3)]
    bookings = [expect(u.book(office=office["id"], date_=day(0)), 201).json() for u in users]
    door = _door_code(admin, office["id"])["code"]
    expect(users[0].post("/api/checkins", {"code": door}), 200)
    expect(users[1].post(f"/api/bookings/{bookings[1]['id']}/release"), 200)
    rows = expect(admin.get("/api/stats", **{"from": day(0), "to": day(0)}), 200).json()["office_dates"]
    row = next(r for r in rows if r["office"] == office["id"])
    assert row == {"office": office["id"], "date": day(0), "bookings": 2, "parking": 0, "checked_in": 1,
                   "released": 1, "no_show_rate": None}  # no deadline: no rate
    csv = expect(admin.get("/api/stats", **{"from": day(0), "to": day(0), "format": "csv"}), 200).text
    lines = csv.splitlines()
    assert lines[0] == "office,date,bookings,parking,checked_in,released"
    assert f"{office['id']},{day(0)},2,0,1,1" in lines
