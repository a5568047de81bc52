"""Sign in (SPEC §2) through the screens: email → "code sent" → code, and the messages users see."""
import re

import pytest
import requests
from playwright.sync_api import expect

from .conftest import unique_email
from .support import WIDTHS, check_a11y, no_page_errors


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_sign_in_with_code_from_email_then_sign_out(ui, width):
    email = unique_email()
    page = ui.page(WIDTHS[width])
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    check_a11y(page, "sign-in-email", width)

    page.get_by_label("Work email address").fill(f"  {email.upper()} ")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_text("Code sent")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Code sent")).to_contain_text(email)
    # Not local development (SMTP is configured): the generic hint, no development mailbox.
    expect(page.get_by_text("Check your email inbox")).to_be_visible()
    expect(page.get_by_text("development mailbox")).to_have_count(0)
    check_a11y(page, "sign-in-code", width)

    code = ui.stack.smtp.code_for(email)
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Book a place")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text(email)

    # The session survives a reload (cookie) and ends on sign-out.
    page.reload()
    expect(page.get_by_role("heading", name="Book a place")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    no_page_errors(page)


def test_disallowed_address_is_refused_before_sending(ui):
    page = ui.page()
    page.goto("/")
    before = len(ui.stack.smtp.messages)
    page.get_by_label("Work email address").fill("someone@elsewhere.example")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("alert")).to_contain_text("not permitted to sign in")
    expect(page.get_by_label("Work email address")).to_be_focused()
    page.get_by_label("Work email address").fill("not an address")
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter a valid email address")
    assert len(ui.stack.smtp.messages) == before


def test_wrong_code_shows_the_message_and_its_reference(ui):
    email = unique_email()
    page = ui.page()
    page.goto("/")
    page.get_by_label("Work email address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    code = ui.stack.smtp.code_for(email)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    page.get_by_label("6-digit code").fill(wrong)
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Incorrect code")
    expect(alert).to_contain_text(re.compile(r"reference \S+"))

    # A used code is refused with the server's message; a new code can be requested.
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Book a place")).to_be_visible()


def test_expired_or_used_code_message(ui):
    email = unique_email()
    page = ui.page()
    page.goto("/")
    page.get_by_label("Work email address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    code = ui.stack.smtp.code_for(email)
    # Someone (another tab) uses the code first.
    r = requests.post(ui.stack.url("/api/auth/verify"), json={"email": email, "code": code}, timeout=10)
    assert r.status_code == 200
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Code expired or already used")
    # "Send a new code" sends another one, which works.
    page.get_by_role("button", name="Send a new code").click()
    expect(page.get_by_role("status").filter(has_text="again")).to_be_visible()
    fresh = ui.stack.smtp.code_for(email, count=2)
    page.get_by_label("6-digit code").fill(fresh)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Book a place")).to_be_visible()


def test_rate_limited_code_requests_say_so(ui):
    email = unique_email()
    page = ui.page()
    page.goto("/")
    page.get_by_label("Work email address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_text("Code sent")).to_be_visible()
    for n in range(2, 6):  # 5 requests per 15 minutes are allowed
        page.get_by_role("button", name="Send a new code").click()
        ui.stack.smtp.wait_for(email, count=n)
    page.get_by_role("button", name="Send a new code").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many requests")
    expect(alert).to_contain_text(re.compile(r"Try again in \d+ minute"))
    expect(alert).to_contain_text("reference")


def test_deep_link_survives_sign_in(ui):
    email = unique_email()
    page = ui.page()
    page.goto("/bookings")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Work email address").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("6-digit code").fill(ui.stack.smtp.code_for(email))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/bookings$"))
    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()


def test_local_development_hint_names_the_development_mailbox(ui):
    """In development mode (OB_MODE=development, which only ./ob run sets: SPEC §17) the code
    screen says where to read the code and links the development mailbox the runner serves. The
    other tests' stacks run in production mode, where no such hint is shown."""
    replica = ui.stack.launch("gateway", key="devgateway", env={"OB_MODE": "development", "SMTP_HOST": "",
                                                               "DEV_MAILBOX_HTTP": "127.0.0.1:8025"})
    try:
        ui.stack.wait_ready()
        email = unique_email()
        page = ui.page()
        page.goto(replica.url + "/")
        page.get_by_label("Work email address").fill(email)
        page.get_by_role("button", name="Send me a code").click()
        expect(page.get_by_text("Code sent")).to_be_visible()
        expect(page.get_by_text("Local development: the code is printed in the server log")).to_be_visible()
        expect(page.get_by_role("link", name="development mailbox")).to_have_attribute("href", "http://127.0.0.1:8025/")
        expect(page.get_by_text("Check your email inbox")).to_have_count(0)
        check_a11y(page)
        no_page_errors(page)
    finally:
        ui.stack.processes.pop("devgateway").stop()
