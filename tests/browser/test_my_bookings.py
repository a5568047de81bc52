"""Upcoming and previous bookings."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import unique_email
from .support import WIDTHS, api_as, check_a11y, next_week_monday, no_page_errors


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_upcoming_bookings_with_pass_and_cancel(ui, width):
    stack = ui.stack
    email = unique_email("mine")
    client = api_as(stack, email)
    monday = next_week_monday()
    for offset, office, parking in ((1, "beta", True), (0, "alpha", False)):
        r = client.post(stack.url("/api/bookings"), json={
            "user": email, "office": office, "date": (monday + timedelta(days=offset)).isoformat(), "parking": parking})
        assert r.status_code == 201, r.text

    page = ui.signed_in(email, WIDTHS[width], "/bookings")
    upcoming = page.get_by_role("region", name="Upcoming")
    items = upcoming.get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Office Alpha")  # by date
    expect(items.nth(1)).to_contain_text("Office Beta · parking")
    expect(page.get_by_role("region", name="Previous")).to_contain_text("No previous bookings")
    check_a11y(page, "my-bookings", width)

    items.nth(0).get_by_role("button", name=re.compile("^Cancel")).click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("status").filter(has_text="Cancelled your booking")).to_be_visible()
    expect(items).to_have_count(1)

    items.nth(0).get_by_role("link", name=re.compile("^Pass")).click()
    expect(page).to_have_url(re.compile(r"/booking/"))
    no_page_errors(page)


def test_nav_reaches_my_bookings(ui, email):
    page = ui.signed_in(email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("heading", level=1, name="My bookings")).to_be_visible()
