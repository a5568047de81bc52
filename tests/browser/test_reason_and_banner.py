"""A stack with reason-to-book on and the test banner shown (SPEC §4 reason to book, §7 show_test_banner)."""
import re
import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import unique_email
from .support import WIDTHS, api_as, check_a11y, next_week_monday


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_test_banner_is_shown(reason_ui, width):
    page = reason_ui.page(WIDTHS[width])
    page.goto("/")
    expect(page.get_by_role("note")).to_contain_text("Test environment")
    check_a11y(page, "test-banner", width)
    page.goto("/help")
    expect(page.get_by_role("note")).to_contain_text("Test environment")


def test_no_banner_when_not_configured(ui):
    page = ui.page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Test environment")).to_have_count(0)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_reason_is_asked_and_emailed(reason_ui, width):
    stack = reason_ui.stack
    email = unique_email("reason")
    page = reason_ui.signed_in(email, WIDTHS[width])
    page.get_by_role("button", name=re.compile("Office Alpha")).click()
    monday = next_week_monday()
    page.get_by_role("button", name="Next week").click()
    day = page.locator(f'li[data-date="{monday.isoformat()}"]')
    day.get_by_role("button", name=re.compile(r"^Book \w+day")).click()
    dialog = page.get_by_role("dialog")
    reason = dialog.get_by_label("Why do you need to go to the office?")
    expect(reason).to_be_visible()
    expect(dialog.get_by_role("button", name="Book", exact=True)).to_be_disabled()
    check_a11y(page, "reason-dialog", width)
    reason.fill("Team planning day")
    dialog.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(f'li[data-date="{monday.isoformat()}"]')).to_contain_text("Booked")
    mail = wait_for_mail(stack, "office-team@my-company.example", email)
    assert "Team planning day" in stack.smtp.text(mail)


def test_auto_approved_user_is_not_asked(reason_ui):
    stack = reason_ui.stack
    email = unique_email("auto")
    admin = api_as(stack, "admin@my-company.example")
    r = admin.put(stack.url(f"/api/users/{email}"), json={"auto_approved": True})
    assert r.status_code == 200, r.text
    page = reason_ui.signed_in(email)
    page.get_by_role("button", name=re.compile("Office Alpha")).click()
    monday = next_week_monday()
    page.get_by_role("button", name="Next week").click()
    page.locator(f'li[data-date="{(monday + timedelta(days=1)).isoformat()}"]').get_by_role(
        "button", name=re.compile(r"^Book \w+day")).click()
    expect(page.locator(f'li[data-date="{(monday + timedelta(days=1)).isoformat()}"]')).to_contain_text("Booked")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_admin_books_on_behalf_with_a_reason(reason_ui):
    stack = reason_ui.stack
    someone = unique_email("behalf")
    day = next_week_monday() + timedelta(days=2)
    page = reason_ui.signed_in("admin@my-company.example", path=f"/admin/bookings?office=alpha&date={day.isoformat()}")
    page.get_by_label("Email address").fill(someone)
    reason = page.get_by_label("Reason to go to the office")
    expect(reason).to_be_visible()  # the user is not auto-approved
    reason.fill("Covering reception")
    page.get_by_role("button", name=re.compile("^Book for")).click()
    expect(page.get_by_role("status").filter(has_text=f"for {someone}")).to_be_visible()
    expect(page.locator("tbody tr").filter(has_text=someone)).to_have_count(1)
    mail = wait_for_mail(stack, "office-team@my-company.example", someone)
    assert "Covering reception" in stack.smtp.text(mail)


def wait_for_mail(stack, to, subject_part, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in stack.smtp.to(to) if subject_part in m["Subject"]]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {to} about {subject_part}")
