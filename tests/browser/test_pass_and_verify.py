"""The virtual pass (SPEC §5) and the verify page used by security staff."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import CHROMIUM, unique_email
from .support import (
    ARGS,
    WIDTHS,
    Browser,
    api_as,
    check_a11y,
    next_week_monday,
    no_page_errors,
    office_today,
    qr_video,
    screenshot,
)

ADMIN = "admin@my-company.example"


def book(stack, email, office="alpha", when=None, parking=False):
    client = api_as(stack, email)
    r = client.post(stack.url("/api/bookings"), json={
        "user": email, "office": office, "date": (when or next_week_monday()).isoformat(), "parking": parking})
    assert r.status_code == 201, r.text
    booking = r.json()
    code = client.get(stack.url(f"/api/bookings/{booking['id']}/pass")).json()["code"]
    return client, booking, code


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_pass_page(ui, width):
    local = f"pass.holder-{width}"
    email = unique_email(local)
    monday = next_week_monday()
    _, booking, code = book(ui.stack, email, when=monday, parking=True)
    page = ui.signed_in(email, WIDTHS[width], f"/booking/{booking['id']}")
    card = page.get_by_role("article", name="Office pass")
    expect(card.locator(".pass-weekday")).to_have_text("Monday")
    expect(card.locator(".pass-date")).to_have_text(f"{monday.day} {monday.strftime('%B %Y')}")
    expect(card.locator(".pass-office")).to_have_text("Office Alpha")
    expect(card.locator(".pass-parking")).to_have_text("Parking space included")
    expect(card.locator(".pass-local")).to_have_text(email.split("@")[0])
    expect(card.locator(".pass-domain")).to_have_text("@my-company.example")
    qr = card.get_by_role("img", name=re.compile("QR code of the pass"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    # The QR holds the signed pass code (the same as the API's), not the booking id.
    page.get_by_text("Pass code (if the QR code cannot be scanned)").click()
    expect(page.get_by_test_id("pass-code")).to_have_text(code)
    assert booking["id"] not in code or len(code) > len(booking["id"]) + 16
    check_a11y(page, "pass", width)
    no_page_errors(page)


def test_pass_prints_as_one_clean_card(ui):
    email = unique_email("print")
    _, booking, _ = book(ui.stack, email)
    page = ui.signed_in(email, path=f"/booking/{booking['id']}")
    expect(page.get_by_role("article", name="Office pass")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("banner")).to_be_hidden()
    expect(page.get_by_role("button", name="Print pass")).to_be_hidden()
    expect(page.get_by_role("contentinfo")).to_be_hidden()
    expect(page.get_by_role("article", name="Office pass")).to_be_visible()
    screenshot(page, "pass-print", "print")
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1, "the pass prints on one page"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_verify_statuses(ui, width):
    stack = ui.stack
    today = office_today()
    holder = unique_email("door")
    client, today_alpha, code_ok = book(stack, holder, "alpha", today)
    _, later_alpha, code_later = book(stack, holder, "alpha", next_week_monday() + timedelta(days=4))
    _, today_beta, code_beta = book(stack, holder, "beta", today)
    _, cancelled, code_cancelled = book(stack, holder, "beta", next_week_monday() + timedelta(days=5))
    assert client.delete(stack.url(f"/api/bookings/{cancelled['id']}")).status_code == 204

    page = ui.signed_in(ADMIN, WIDTHS[width], "/verify")
    expect(page.get_by_role("heading", name="Verify passes")).to_be_visible()
    page.get_by_label("You are at").select_option("alpha")
    check_a11y(page, "verify", width)

    def verify(code, status, title, text=None):
        page.get_by_label("Or paste the pass code").fill(code)
        page.get_by_role("button", name="Verify", exact=True).click()
        result = page.locator(".verify-result")
        expect(result).to_have_attribute("data-status", status)
        expect(result.locator(".verify-status")).to_have_text(title)
        if text:
            expect(result).to_contain_text(text)
        return result

    result = verify(code_ok, "ok", "Valid pass", "Checked in at")
    expect(result.locator(".pass-local")).to_have_text(holder.split("@")[0])
    check_a11y(page, "verify-ok", width)
    verify(code_ok, "ok", "Valid pass", "Already checked in at")  # a repeat scan says so
    verify(code_later, "wrong_day", "Wrong day", "not today")
    verify(code_beta, "wrong_office", "Wrong office", "Office Beta")
    verify(code_cancelled, "cancelled", "Cancelled")
    # Change the signature's first character: the last one of unpadded base64 partly carries
    # padding bits, so changing it can decode to the very same (genuine) signature.
    payload, _, signature = code_ok.rpartition(".")
    tampered = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    verify("not-a-pass", "invalid", "Not valid")
    verify(tampered, "invalid", "Not valid")
    check_a11y(page, "verify-invalid", width)
    # The check-in is recorded on the booking.
    listed = client.get(stack.url("/api/bookings"), params={"user": holder}).json()
    assert next(b for b in listed if b["id"] == today_alpha["id"])["checked_in_at"]
    no_page_errors(page)


def test_verify_page_is_not_for_default_users(ui, email):
    page = ui.signed_in(email, path="/verify")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Verify passes")).to_have_count(0)


def test_verify_by_scanning_with_the_camera(playwright_browser, stack, tmp_path):
    """Chromium's fake camera shows the pass's QR code; the verify page reads it (zxing-wasm)."""
    holder = unique_email("camera")
    _, _, code = book(stack, holder, "alpha", office_today())
    video = qr_video(code, tmp_path / "pass.y4m")
    browser = playwright_browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                     f"--use-file-for-fake-video-capture={video}"],
    )
    try:
        ui = Browser(browser, stack)
        page = ui.signed_in(ADMIN, path="/verify")
        page.context.grant_permissions(["camera"])
        page.get_by_label("You are at").select_option("alpha")
        page.get_by_role("button", name="Scan with camera").click()
        scanner = page.locator(".scanner")
        expect(scanner).to_have_attribute("data-state", "scanning", timeout=20_000)
        result = page.locator(".verify-result")
        try:
            # decoding video frames in software is slow on a busy 2-core machine
            expect(result).to_have_attribute("data-status", "ok", timeout=45_000)
        except AssertionError as exc:
            screenshot(page, "verify-camera-failed", "desktop")
            raise AssertionError(f"no pass read after {scanner.get_attribute('data-frames')} camera frames "
                                 f"(scanner state {scanner.get_attribute('data-state')})") from exc
        expect(result.locator(".pass-local")).to_have_text(holder.split("@")[0])
        screenshot(page, "verify-camera", "desktop")
        page.get_by_role("button", name="Stop camera").click()
        expect(page.get_by_role("button", name="Scan with camera")).to_be_visible()
        ui.close()
    finally:
        browser.close()
