"""Check-in at the door and "I'm not coming" (SPEC §11) in the browser: the kiosk shows the door
code as a QR code; a phone opens the URL decoded from it and is checked in; the pass page's release
button frees the place. axe at 360 px and on the desktop; the gateway's strict CSP applies."""
from __future__ import annotations

import re
import subprocess
import time
import urllib.parse
from pathlib import Path

from playwright.sync_api import expect

from .conftest import unique_email
from .support import PHONE, WIDTHS, api_as, check_a11y, no_page_errors, office_today, screenshot

ADMIN = "admin@my-company.example"
DECODER = Path(__file__).resolve().parents[2] / "web" / "scripts" / "decode-qr.mjs"


def _office(stack) -> str:
    office_id = f"kiosk-{time.monotonic_ns() % 10**8}"
    r = api_as(stack, ADMIN).post(stack.url("/api/offices"), json={"id": office_id, "name": "Kiosk Office",
                                                                    "quota": 5, "timezone": "Europe/London"})
    assert r.status_code == 201, r.text
    return office_id


def _book_today(stack, email: str, office: str) -> dict:
    r = api_as(stack, email).post(stack.url("/api/bookings"), json={
        "user": email, "office": office, "date": office_today().isoformat()})
    assert r.status_code == 201, r.text
    return r.json()


def _decode(png: Path) -> str:
    done = subprocess.run(["node", str(DECODER), str(png)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_kiosk_to_phone_check_in(ui, tmp_path):
    office = _office(ui.stack)
    holder = unique_email("kiosk")
    _book_today(ui.stack, holder, office)

    kiosk = ui.signed_in(ADMIN, WIDTHS["desktop"], f"/kiosk/{office}")
    expect(kiosk.get_by_role("heading", name="Check in here")).to_be_visible()
    expect(kiosk.locator(".kiosk-office")).to_have_text("Kiosk Office")
    qr = kiosk.get_by_test_id("kiosk-code").get_by_role("img")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert qr.bounding_box()["width"] >= 400  # readable across a lobby
    png = tmp_path / "kiosk.png"
    qr.screenshot(path=str(png))
    url = _decode(png)
    parsed = urllib.parse.urlparse(url)
    assert parsed.path == "/checkin" and "code" in urllib.parse.parse_qs(parsed.query)
    check_a11y(kiosk, "kiosk", "desktop")
    screenshot(kiosk, "kiosk", "desktop")

    phone = ui.signed_in(holder, PHONE, f"{parsed.path}?{parsed.query}")
    result = phone.get_by_test_id("checkin-result")
    expect(result.get_by_role("heading", name="You are checked in")).to_be_visible()
    expect(result).to_contain_text("Kiosk Office")
    check_a11y(phone, "checkin", "phone")
    screenshot(phone, "checkin", "phone")
    # opening it again: the same answer, the first time
    phone.reload()
    expect(phone.get_by_role("heading", name="Already checked in")).to_be_visible()
    no_page_errors(kiosk)
    no_page_errors(phone)


def test_a_stale_door_code_is_explained(ui):
    holder = unique_email("kiosk-stale")
    page = ui.signed_in(holder, PHONE, "/checkin?code=not-a-door-code")
    expect(page.get_by_role("heading", name="Not checked in")).to_be_visible()
    expect(page.get_by_text("Invalid or expired door code")).to_be_visible()
    check_a11y(page, "checkin-error", "phone")


def test_release_button_on_the_pass(ui):
    office = _office(ui.stack)
    for width in ("phone", "desktop"):
        holder = unique_email(f"release-{width}")
        booking = _book_today(ui.stack, holder, office)
        page = ui.signed_in(holder, WIDTHS[width], f"/booking/{booking['id']}")
        button = page.get_by_role("button", name="I'm not coming")
        expect(button).to_be_visible()
        check_a11y(page, "pass-release", width)
        button.click()
        dialog = page.get_by_role("dialog", name="Release your place?")
        expect(dialog).to_be_visible()
        check_a11y(page, "pass-release-dialog", width)
        dialog.get_by_role("button", name="Release my place").click()
        expect(page.locator(".pass-status")).to_have_text("Released")
        expect(page.get_by_role("button", name="I'm not coming")).to_have_count(0)
        r = api_as(ui.stack, holder).get(ui.stack.url(f"/api/bookings/{booking['id']}/pass"))
        assert r.json()["booking"]["status"] == "released"
        no_page_errors(page)


def test_admin_sets_and_removes_the_check_in_deadline(ui):
    office = _office(ui.stack)
    for width in ("phone", "desktop"):
        page = ui.signed_in(ADMIN, WIDTHS[width], "/admin/offices")
        row = page.locator(f'tr[data-office="{office}"]')
        expect(row).to_contain_text("None")
        row.get_by_role("button", name=re.compile("^Edit")).click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Check-in deadline (optional)").fill("10:30")
        check_a11y(page, "admin-office-deadline", width)
        dialog.get_by_role("button", name="Save").click()
        expect(row).to_contain_text("10:30")
        got = api_as(ui.stack, ADMIN).get(ui.stack.url(f"/api/offices/{office}")).json()
        assert got["check_in_deadline"] == "10:30"
        # emptied: no automatic release
        row.get_by_role("button", name=re.compile("^Edit")).click()
        page.get_by_role("dialog").get_by_label("Check-in deadline (optional)").fill("")
        page.get_by_role("dialog").get_by_role("button", name="Save").click()
        expect(row).to_contain_text("None")
        got = api_as(ui.stack, ADMIN).get(ui.stack.url(f"/api/offices/{office}")).json()
        assert got["check_in_deadline"] is None
        no_page_errors(page)


def test_release_link_page_asks_before_releasing(ui):
    """The confirmation mail's link opens /release without signing in; nothing changes until the
    holder confirms."""
    office = _office(ui.stack)
    holder = unique_email("release-link")
    booking = _book_today(ui.stack, holder, office)
    mails = [m for m in ui.stack.smtp.to(holder) if m["Subject"].startswith("Booking confirmed")]
    for _ in range(100):
        if mails:
            break
        time.sleep(0.1)
        mails = [m for m in ui.stack.smtp.to(holder) if m["Subject"].startswith("Booking confirmed")]
    link = next(line.strip() for line in ui.stack.smtp.text(mails[-1]).splitlines() if "/release?token=" in line)
    parsed = urllib.parse.urlparse(link)
    for width in ("phone", "desktop"):
        page = ui.page(WIDTHS[width])  # not signed in
        page.goto(f"{parsed.path}?{parsed.query}")
        expect(page.get_by_role("heading", name="Release your place")).to_be_visible()
        expect(page.get_by_text("Kiosk Office")).to_be_visible()
        check_a11y(page, "release-link", width)
        r = api_as(ui.stack, holder).get(ui.stack.url(f"/api/bookings/{booking['id']}/pass"))
        assert r.json()["booking"]["status"] == ("active" if width == "phone" else "released")
        if width == "phone":
            page.get_by_role("button", name="Yes, release my place").click()
            expect(page.get_by_test_id("release-done")).to_contain_text("Done")
        else:
            expect(page.get_by_test_id("release-done")).to_contain_text("already released")
        no_page_errors(page)
