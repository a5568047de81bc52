"""Home: office picked once, week navigator, availability, book (+ parking), cancel, quota."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import unique_email
from .support import WIDTHS, api_as, check_a11y, next_week_monday, no_page_errors, office_today


def day(page, d):
    return page.locator(f'li[data-date="{d.isoformat()}"]')


def places_left(page, d) -> int:
    return int(day(page, d).locator(".avail-places strong").inner_text())


def parking_left(page, d) -> int:
    return int(day(page, d).locator(".avail-parking strong").inner_text())


def choose_office(page, name="Office Alpha"):
    page.get_by_role("button", name=re.compile(name)).click()
    expect(page.locator(".office-name")).to_contain_text(name)


def go_to_next_week(page):
    monday = next_week_monday()
    page.get_by_role("button", name="Next week").click()
    expect(day(page, monday)).to_be_visible()
    return monday


def test_office_is_picked_once_and_remembered(ui, email):
    page = ui.signed_in(email)
    expect(page.get_by_role("heading", name="Which office do you go to?")).to_be_visible()
    choose_office(page, "Office Beta")
    page.reload()
    expect(page.locator(".office-name")).to_contain_text("Office Beta")
    page.get_by_role("button", name="Change office").click()
    choose_office(page, "Office Alpha")
    page.reload()
    expect(page.locator(".office-name")).to_contain_text("Office Alpha")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_home_screens_are_accessible(ui, width):
    page = ui.signed_in(unique_email(), WIDTHS[width])
    expect(page.get_by_role("heading", name="Which office do you go to?")).to_be_visible()
    check_a11y(page, "office-chooser", width)
    choose_office(page)
    expect(page.get_by_test_id("remaining")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    check_a11y(page, "home", width)
    no_page_errors(page)


def test_week_navigator_today_and_greyed_days(ui, email):
    page = ui.signed_in(email)
    choose_office(page)
    today = office_today()
    monday = today - timedelta(days=today.weekday())
    expect(day(page, today)).to_contain_text("Today")
    expect(day(page, today)).to_have_class(re.compile("day-today"))
    if today.weekday() > 0:
        expect(day(page, monday)).to_contain_text("Past")
        expect(day(page, monday).get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("button", name="Previous week")).to_be_disabled()
    # the 14-day window spans two weeks when it starts on a Monday, three otherwise
    last = today + timedelta(days=13)
    weeks_ahead = ((last - timedelta(days=last.weekday())) - monday).days // 7
    for _ in range(weeks_ahead):
        page.get_by_role("button", name="Next week").click()
    expect(day(page, last)).to_be_visible()
    expect(page.get_by_role("button", name="Next week")).to_be_disabled()
    after = last + timedelta(days=1)
    if after.weekday() != 0:  # the window ends mid-week: later days are greyed
        expect(day(page, after)).to_contain_text("Not bookable yet")
        expect(day(page, after)).to_have_class(re.compile("day-disabled"))
    for _ in range(weeks_ahead):
        page.get_by_role("button", name="Previous week").click()
    expect(day(page, today)).to_be_visible()
    expect(page.get_by_role("button", name="Previous week")).to_be_disabled()


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_book_then_cancel_with_confirmation(ui, email, width):
    page = ui.signed_in(email, WIDTHS[width])
    choose_office(page)
    monday = go_to_next_week(page)
    expect(page.get_by_test_id("remaining")).to_contain_text("3 bookings remaining this week")
    before = places_left(page, monday)

    day(page, monday).get_by_role("button", name=re.compile(r"^Book \w+day")).click()
    expect(page.get_by_role("status").filter(has_text="Booked Office Alpha")).to_be_visible()
    expect(day(page, monday)).to_contain_text("Booked")
    expect(page.get_by_test_id("remaining")).to_contain_text("2 bookings remaining this week")
    expect(day(page, monday).locator(".avail-places strong")).to_have_text(str(before - 1))
    check_a11y(page, "home-booked", width)

    day(page, monday).get_by_role("button", name=re.compile("^Cancel")).click()
    dialog = page.get_by_role("dialog", name="Cancel this booking?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep booking").click()
    expect(dialog).to_be_hidden()
    expect(day(page, monday)).to_contain_text("Booked")

    day(page, monday).get_by_role("button", name=re.compile("^Cancel")).click()
    check_a11y(page, "cancel-dialog", width)
    page.get_by_role("dialog").get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("status").filter(has_text="Cancelled your booking")).to_be_visible()
    expect(page.get_by_test_id("remaining")).to_contain_text("3 bookings remaining this week")
    expect(day(page, monday).locator(".avail-places strong")).to_have_text(str(before))

    client = api_as(ui.stack, email)
    assert client.get(ui.stack.url("/api/bookings"), params={"user": email}).json() == []


def test_book_with_parking(ui, email):
    page = ui.signed_in(email)
    choose_office(page)
    monday = go_to_next_week(page)
    tuesday = monday + timedelta(days=1)
    before = parking_left(page, tuesday)
    day(page, tuesday).get_by_role("button", name=re.compile(r"^Book \+ parking")).click()
    expect(day(page, tuesday)).to_contain_text("Booked + parking")
    expect(day(page, tuesday).locator(".avail-parking strong")).to_have_text(str(before - 1))
    bookings = api_as(ui.stack, email).get(ui.stack.url("/api/bookings"), params={"user": email}).json()
    assert [(b["date"], b["parking"], b["office"]["id"]) for b in bookings] == [(tuesday.isoformat(), True, "alpha")]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_booking_today_asks_for_confirmation_and_shows_todays_card(ui, email, width):
    page = ui.signed_in(email, WIDTHS[width])
    choose_office(page)
    today = office_today()
    day(page, today).get_by_role("button", name=re.compile(r"^Book \w+day")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("not be able to cancel it yourself")
    dialog.get_by_role("button", name="Go back").click()
    expect(dialog).to_be_hidden()
    expect(day(page, today)).not_to_contain_text("Booked")

    day(page, today).get_by_role("button", name=re.compile(r"^Book \w+day")).click()
    check_a11y(page, "book-today-dialog", width)
    page.get_by_role("dialog").get_by_role("button", name="Book", exact=True).click()
    expect(day(page, today)).to_contain_text("Booked")
    # Today's booking can no longer be cancelled by its owner (the day has started).
    expect(day(page, today).get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)
    card = page.get_by_role("region", name="Today")
    expect(card).to_contain_text("You are booked at Office Alpha")
    card.get_by_role("link", name=re.compile("Show my pass")).click()
    expect(page).to_have_url(re.compile(r"/booking/"))


def test_quota_exhausted_message(ui, email):
    stack = ui.stack
    client = api_as(stack, email)
    monday = next_week_monday()
    for offset, office in ((0, "alpha"), (1, "alpha")):
        r = client.post(stack.url("/api/bookings"), json={
            "user": email, "office": office, "date": (monday + timedelta(days=offset)).isoformat()})
        assert r.status_code == 201, r.text
    page = ui.signed_in(email)
    choose_office(page)
    go_to_next_week(page)
    expect(page.get_by_test_id("remaining")).to_contain_text("1 booking remaining this week")
    # Meanwhile the last booking of the week is used elsewhere (another device, another office).
    r = client.post(stack.url("/api/bookings"), json={
        "user": email, "office": "beta", "date": (monday + timedelta(days=2)).isoformat()})
    assert r.status_code == 201, r.text
    day(page, monday + timedelta(days=3)).get_by_role("button", name=re.compile(r"^Book \w+day")).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("User quota exceeded")
    expect(alert).to_contain_text(re.compile(r"reference \S+"))
    expect(page.get_by_test_id("remaining")).to_contain_text("No bookings remaining this week")
    friday = day(page, monday + timedelta(days=4))
    expect(friday.get_by_role("button", name=re.compile(r"^Book \w+day"))).to_be_disabled()
    expect(day(page, monday + timedelta(days=4))).to_contain_text("No bookings left this week")
    check_a11y(page, "home-quota-exhausted")


def test_availability_updates_live_in_another_browser(ui):
    watcher_email, booker_email = unique_email("watch"), unique_email("book")
    watcher = ui.signed_in(watcher_email)
    choose_office(watcher)
    monday = go_to_next_week(watcher)
    wednesday = monday + timedelta(days=2)
    before = places_left(watcher, wednesday)

    booker = ui.signed_in(booker_email)
    choose_office(booker)
    go_to_next_week(booker)
    day(booker, wednesday).get_by_role("button", name=re.compile(r"^Book \w+day")).click()
    expect(day(booker, wednesday)).to_contain_text("Booked")

    # No reload: the watcher's page hears the change over server-sent events.
    expect(day(watcher, wednesday).locator(".avail-places strong")).to_have_text(str(before - 1), timeout=10_000)
    # And a booking made through the API (another client) is seen too.
    thursday = wednesday + timedelta(days=1)
    parking_before = parking_left(watcher, thursday)
    r = api_as(ui.stack, booker_email).post(ui.stack.url("/api/bookings"), json={
        "user": booker_email, "office": "alpha", "date": thursday.isoformat(), "parking": True})
    assert r.status_code == 201, r.text
    expect(day(watcher, thursday).locator(".avail-parking strong")).to_have_text(
        str(parking_before - 1), timeout=10_000)
