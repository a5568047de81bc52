"""Regular office days and calendars (SPEC §14) in the browser, against the real stack: set regular
days and see what was booked and what was refused and why, then stop them (the bookings stay); "I'm
away" cancels a range of one's bookings and reports the one kept (today's); the calendar feed link
is shown once (https, and webcal:// for calendar apps), serves the user's bookings, and a new link
makes the old one answer 404. axe at 360 px and on the desktop; the gateway's CSP applies.

The stack of this module names its public address (`web_url`, as a deployment behind HTTPS does), so
the feed URL the page shows is https; the test fetches it through the stack's own address."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
import requests
from playwright.sync_api import expect

from tests.support.fixtures import running_stack

from .conftest import unique_email
from .support import WIDTHS, Browser, api_as, check_a11y, no_page_errors, office_today

ADMIN = "admin@my-company.example"
WEB_URL = "https://office-booker.my-company.example"
WEEKLY_QUOTA = 3  # tests/support/stack.py's default_weekly_quota
WINDOW_DAYS = 14  # its advance_booking_days


@pytest.fixture(scope="module")
def feed_stack(database_server, amqp_server, tmp_path_factory):
    """A stack with the test config and a public HTTPS address (feed URLs are absolute)."""
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("regular-days-stack"),
                       {"web_url": WEB_URL}) as s:
        yield s


@pytest.fixture
def rui(playwright_browser, feed_stack) -> Browser:
    b = Browser(playwright_browser, feed_stack)
    try:
        yield b
    finally:
        b.close()


def _office(stack, quota: int) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:6]
    office_id, name = f"regular-{tag}", f"Regular {tag}"
    r = api_as(stack, ADMIN).post(stack.url("/api/offices"), json={
        "id": office_id, "name": name, "quota": quota, "parking_quota": 0, "timezone": "Europe/London"})
    assert r.status_code == 201, r.text
    return office_id, name


def _book(stack, email: str, office: str, when: date) -> dict:
    r = api_as(stack, email).post(stack.url("/api/bookings"), json={
        "user": email, "office": office, "date": when.isoformat()})
    assert r.status_code == 201, r.text
    return r.json()


def _long(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B} {day.year}"


def _expected(full_day: date) -> dict[date, str | None]:
    """Monday–Friday in the window, decided in date order: the full day refused for the office's
    quota (rule 9 comes before rule 11), then each week's days past the weekly quota refused."""
    today = office_today()
    per_week: dict[date, int] = {}
    expected: dict[date, str | None] = {}
    for i in range(WINDOW_DAYS):
        day = today + timedelta(days=i)
        if day.weekday() >= 5:
            continue
        monday = day - timedelta(days=day.weekday())
        if day == full_day:
            expected[day] = "Office quota exceeded"
        elif per_week.get(monday, 0) >= WEEKLY_QUOTA:
            expected[day] = "User quota exceeded"
        else:
            per_week[monday] = per_week.get(monday, 0) + 1
            expected[day] = None
    return expected


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_regular_days_booked_and_refused_with_the_reason_then_stopped(rui, width):
    stack = rui.stack
    office, name = _office(stack, quota=1)
    today = office_today()
    full_day = today + timedelta(days=7 + (2 - today.weekday()))  # next week's Wednesday
    _book(stack, unique_email("seat"), office, full_day)
    me = unique_email("regular")

    page = rui.signed_in(me, WIDTHS[width], "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Regular days").click()
    expect(page.get_by_role("heading", level=1, name="Regular days")).to_be_visible()
    patterns = page.get_by_role("region", name="Your regular days")
    expect(patterns).to_contain_text("You have no regular days.")
    check_a11y(page, "regular-days-empty", width)

    form = page.get_by_role("region", name="Set regular days")
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        form.get_by_label(day).check()
    form.get_by_label("Office").select_option(office)
    expect(form.get_by_label("Also book a parking space")).to_be_disabled()  # the office has no car park
    form.get_by_role("button", name="Set regular days").click()

    expected = _expected(full_day)
    booked = [d for d, why in expected.items() if why is None]
    refused = {d: why for d, why in expected.items() if why is not None}
    assert refused and booked
    status = page.get_by_role("status").filter(has_text="Regular days set")
    expect(status).to_contain_text(f"Every weekday (Monday to Friday) at {name}")
    expect(status).to_contain_text(f"{len(booked)} days booked, {len(refused)} days not booked.")
    item = patterns.get_by_role("listitem").filter(has_text=f"Every weekday (Monday to Friday) at {name}")
    expect(item).to_have_count(1)
    for day in booked:
        row = item.locator(f'li[data-date="{day.isoformat()}"]')
        expect(row).to_contain_text(f"{_long(day)} Booked")
    for day, why in refused.items():
        expect(item.locator(f'li[data-date="{day.isoformat()}"]')).to_contain_text(f"{_long(day)} Not booked: {why}")
    check_a11y(page, "regular-days-results", width)

    client = api_as(stack, me)
    made = client.get(stack.url("/api/bookings"), params={"user": me}).json()
    assert sorted((b["date"], b["created_by"]) for b in made) == [(d.isoformat(), "recurring") for d in booked]

    item.get_by_role("button", name=re.compile("^Stop these regular days")).click()
    dialog = page.get_by_role("dialog", name="Stop these regular days?")
    expect(dialog).to_contain_text("The bookings already made stay")
    check_a11y(page, "regular-days-stop-dialog", width)
    dialog.get_by_role("button", name="Stop regular days").click()
    expect(page.get_by_role("status").filter(has_text="The bookings already made stay")).to_be_visible()
    expect(patterns).to_contain_text("You have no regular days.")
    assert client.get(stack.url("/api/recurring")).json() == []
    kept = client.get(stack.url("/api/bookings"), params={"user": me}).json()
    assert sorted(b["id"] for b in kept) == sorted(b["id"] for b in made)

    # The bookings are on My bookings, as any others.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("region", name="Upcoming").get_by_role("listitem")).to_have_count(len(booked))
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_range_cancel_cancels_a_range_and_reports_todays_booking_kept(rui, width):
    stack = rui.stack
    me = unique_email("away")
    today = office_today()
    in_range = [today + timedelta(days=1), today + timedelta(days=7)]
    after = today + timedelta(days=10)
    held = _book(stack, me, "alpha", today)
    for day in (*in_range, after):
        _book(stack, me, "alpha", day)

    page = rui.signed_in(me, WIDTHS[width], "/bookings")
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_role("listitem")).to_have_count(4)
    away = page.get_by_role("region", name="I'm away")
    away.get_by_label("From").fill(today.isoformat())
    away.get_by_label("To").fill((today + timedelta(days=8)).isoformat())
    away.get_by_role("button", name="Cancel bookings in these dates").click()
    dialog = page.get_by_role("dialog", name="Cancel your bookings in these dates?")
    expect(dialog).to_contain_text(f"at every office from {_long(today)} to {_long(today + timedelta(days=8))}")
    check_a11y(page, "range-cancel-dialog", width)
    dialog.get_by_role("button", name="Cancel bookings").click()

    result = away.get_by_test_id("range-cancel-result")
    expect(result).to_contain_text("Cancelled 2 bookings.")
    expect(result.get_by_role("listitem")).to_have_text(
        [f"{_long(today)} at Office Alpha: No longer able to cancel booking"])
    expect(upcoming.get_by_role("listitem")).to_have_count(2)
    check_a11y(page, "range-cancel-result", width)

    mine = api_as(stack, me).get(stack.url("/api/bookings"), params={"user": me, "include_cancelled": "true"}).json()
    assert sorted((b["date"], b["status"]) for b in mine) == sorted(
        [(today.isoformat(), "active"), (after.isoformat(), "active")]
        + [(d.isoformat(), "cancelled") for d in in_range])
    assert held["id"] in {b["id"] for b in mine if b["status"] == "active"}
    no_page_errors(page)


def _fetch(stack, url: str) -> requests.Response:
    """GET a feed URL as a calendar app would, through the stack's own address."""
    assert url.startswith(WEB_URL + "/api/calendar/"), url
    return requests.get(stack.gateway_url + url[len(WEB_URL):], timeout=10)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_calendar_link_created_shown_once_rotated_and_stopped(rui, width):
    stack = rui.stack
    me = unique_email("ics")
    booking = _book(stack, me, "beta", office_today() + timedelta(days=3))

    page = rui.signed_in(me, WIDTHS[width], "/bookings")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=rui.base)
    calendar = page.get_by_role("region", name="Your calendar")
    expect(calendar.get_by_label("Your calendar link")).to_have_count(0)
    calendar.get_by_role("button", name="Add to my calendar").click()

    link = calendar.get_by_label("Your calendar link")
    expect(link).to_have_value(re.compile(r"^https://office-booker\.my-company\.example/api/calendar/[\w-]+\.ics$"))
    first = link.input_value()
    expect(link).to_be_focused()
    expect(calendar).to_contain_text("Copy it now: for your security it is shown only once.")
    expect(calendar.get_by_role("link", name="Open in calendar app")).to_have_attribute(
        "href", "webcal://" + first[len("https://"):])
    check_a11y(page, "calendar-link", width)

    calendar.get_by_role("button", name="Copy link").click()
    expect(calendar.get_by_role("status")).to_have_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == first

    r = _fetch(stack, first)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/calendar")
    assert f"UID:{booking['id']}@office-booker" in r.text.replace("\r\n ", "")

    calendar.get_by_role("button", name="Create a new link").click()
    dialog = page.get_by_role("dialog", name="Create a new calendar link?")
    check_a11y(page, "calendar-rotate-dialog", width)
    dialog.get_by_role("button", name="Create a new link").click()
    expect(calendar.get_by_role("status")).to_have_text("A new calendar link is ready: the old one no longer works.")
    expect(link).not_to_have_value(first)
    second = link.input_value()
    assert _fetch(stack, first).status_code == 404
    assert _fetch(stack, second).status_code == 200

    calendar.get_by_role("button", name="Stop the feed").click()
    dialog = page.get_by_role("dialog", name="Stop the calendar feed?")
    dialog.get_by_role("button", name="Stop the feed").click()
    expect(calendar.get_by_role("status")).to_have_text("The calendar feed is stopped: its link no longer works.")
    expect(link).to_have_count(0)
    assert _fetch(stack, second).status_code == 404
    check_a11y(page, "calendar-stopped", width)
    no_page_errors(page)
