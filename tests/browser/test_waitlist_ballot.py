"""The waitlist of full days (SPEC §12) and the ballot of oversubscribed offices (SPEC §13) in the
browser, against the real stack: join a full day's queue and be booked live when a place frees;
request a ballot day; the queues on "My bookings", on the admin bookings page and the ballot
settings on the admin offices page. axe at 360 px and on the desktop; the gateway's CSP applies."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import unique_email
from .support import WIDTHS, api_as, check_a11y, next_week_monday, no_page_errors, office_today

ADMIN = "admin@my-company.example"


def _office(stack, prefix: str, quota: int, **fields) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:6]
    office_id, name = f"{prefix}-{tag}", f"{prefix.capitalize()} {tag}"
    r = api_as(stack, ADMIN).post(stack.url("/api/offices"), json={
        "id": office_id, "name": name, "quota": quota, "parking_quota": 0, "timezone": "Europe/London", **fields})
    assert r.status_code == 201, r.text
    return office_id, name


def _book(stack, email: str, office: str, when: date, expect_status: int = 201) -> dict:
    r = api_as(stack, email).post(stack.url("/api/bookings"), json={
        "user": email, "office": office, "date": when.isoformat()})
    assert r.status_code == expect_status, r.text
    return r.json()


def _join(stack, email: str, office: str, when: date) -> dict:
    r = api_as(stack, email).post(stack.url("/api/waitlist"), json={
        "user": email, "office": office, "date": when.isoformat(), "parking": False})
    assert r.status_code == 201, r.text
    return r.json()


def _statuses(stack, email: str) -> list[tuple[str, str, str]]:
    """Every booking of `email` (requests too: the default listing leaves them out) as
    (office, date, status)."""
    r = api_as(stack, email).get(stack.url("/api/bookings"), params={"user": email, "include_cancelled": "true"})
    assert r.status_code == 200, r.text
    return [(b["office"]["id"], b["date"], b["status"]) for b in r.json()]


def _day(page, when: date):
    return page.locator(f'li[data-date="{when.isoformat()}"]')


def _home_on(page, name: str, when: date):
    """The home screen of `page` on the office called `name`, at the week holding `when`."""
    page.get_by_role("button", name=re.compile(re.escape(name))).click()
    expect(page.locator(".office-name")).to_contain_text(name)
    today = office_today()
    weeks = ((when - timedelta(days=when.weekday())) - (today - timedelta(days=today.weekday()))).days // 7
    for _ in range(weeks):
        page.get_by_role("button", name="Next week").click()
    expect(_day(page, when)).to_be_visible()


def _drawn_on(when: date, days_before: int, at: str) -> str:
    draw = when - timedelta(days=days_before)
    return f"drawn on {draw:%A} {draw.day} {draw:%B} at {at}"


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_full_day_waitlist_then_booked_live_when_a_place_frees(ui, width):
    stack = ui.stack
    office, name = _office(stack, "waitlist", quota=1)
    when = next_week_monday() + timedelta(days=1)
    holder, waiter = unique_email("holder"), unique_email("waiter")
    held = _book(stack, holder, office, when)

    page = ui.signed_in(waiter, WIDTHS[width])
    _home_on(page, name, when)
    card = _day(page, when)
    expect(card.locator(".avail-places")).to_contain_text("0 of 1 places left")
    expect(card).to_contain_text("Office full")
    check_a11y(page, "home-full-day", width)

    card.get_by_role("button", name=re.compile("^Join the waitlist")).click()
    expect(card.get_by_test_id("waitlist-status")).to_have_text("On the waitlist — position 1")
    expect(page.get_by_role("status").filter(has_text="You are on the waitlist")).to_be_visible()
    expect(card.get_by_role("button", name=re.compile("^Leave the waitlist"))).to_be_visible()
    check_a11y(page, "home-waitlisted", width)
    entries = api_as(stack, waiter).get(stack.url("/api/waitlist")).json()
    assert [(e["office"]["id"], e["date"], e["position"]) for e in entries] == [(office, when.isoformat(), 1)]

    # Someone else's booking is cancelled (by an admin, through the API): the queue's first
    # person is booked, and their open page shows it without a reload.
    r = api_as(stack, ADMIN).delete(stack.url(f"/api/bookings/{held['id']}"))
    assert r.status_code == 204, r.text
    expect(card.locator(".badge-booked")).to_have_text("Booked", timeout=15_000)
    expect(page.get_by_role("status").filter(has_text="A place freed up: you're booked")).to_be_visible()
    expect(card.get_by_test_id("waitlist-status")).to_have_count(0)
    expect(card.get_by_role("link", name=re.compile("^View pass"))).to_be_visible()
    check_a11y(page, "home-promoted", width)
    mine = api_as(stack, waiter).get(stack.url("/api/bookings"), params={"user": waiter}).json()
    assert [(b["office"]["id"], b["status"], b["created_by"]) for b in mine] == [(office, "active", "waitlist")]
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_ballot_day_is_requested_then_cancelled(ui, width):
    stack = ui.stack
    office, name = _office(stack, "ballot", quota=5, allocation="ballot", ballot_draw_days_before=3,
                           ballot_draw_time="12:00")
    when = office_today() + timedelta(days=10)  # in the 14-day window, its draw a week away
    requester = unique_email("requester")

    page = ui.signed_in(requester, WIDTHS[width])
    _home_on(page, name, when)
    card = _day(page, when)
    drawn = _drawn_on(when, 3, "12:00")
    expect(card.get_by_test_id("ballot-info")).to_contain_text(f"Request a place — {drawn}")
    expect(card.get_by_role("button", name=re.compile(r"^Book \w+day"))).to_have_count(0)
    check_a11y(page, "home-ballot", width)

    card.get_by_role("button", name=re.compile("^Request a place")).click()
    expect(card.get_by_test_id("ballot-info")).to_contain_text(f"Requested — {drawn}")
    expect(card.locator(".badge-requested")).to_have_text("Requested")
    expect(page.get_by_role("status").filter(has_text="Requested a place")).to_be_visible()
    check_a11y(page, "home-requested", width)
    assert _statuses(stack, requester) == [(office, when.isoformat(), "requested")]

    card.get_by_role("button", name=re.compile("^Cancel request")).click()
    dialog = page.get_by_role("dialog", name="Cancel this request?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel request").click()
    expect(page.get_by_role("status").filter(has_text="Cancelled your request")).to_be_visible()
    expect(card.get_by_test_id("ballot-info")).to_contain_text(f"Request a place — {drawn}")
    assert _statuses(stack, requester) == [(office, when.isoformat(), "cancelled")]
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_my_bookings_lists_requests_and_waitlist_places(ui, width):
    stack = ui.stack
    full, full_name = _office(stack, "full", quota=1)
    ballot, _ = _office(stack, "draw", quota=5, allocation="ballot", ballot_draw_days_before=2)
    me = unique_email("mine-wl")
    wait_day = next_week_monday() + timedelta(days=2)
    _book(stack, unique_email("other"), full, wait_day)
    _join(stack, me, full, wait_day)
    request_day = office_today() + timedelta(days=9)
    _book(stack, me, ballot, request_day, expect_status=202)

    page = ui.signed_in(me, WIDTHS[width], "/bookings")
    upcoming = page.get_by_role("region", name="Upcoming")
    expect(upcoming.get_by_role("listitem")).to_have_count(1)
    expect(upcoming).to_contain_text("Requested")
    expect(upcoming.get_by_role("button", name=re.compile("^Cancel request"))).to_be_visible()
    expect(upcoming.get_by_role("link", name=re.compile("^Pass"))).to_have_count(0)
    waiting = page.get_by_role("region", name="Waitlists", exact=True)
    expect(waiting.get_by_role("listitem")).to_have_count(1)
    expect(waiting).to_contain_text("On the waitlist — position 1")
    expect(waiting).to_contain_text(full_name)
    check_a11y(page, "my-bookings-waitlist", width)

    waiting.get_by_role("button", name=re.compile("^Leave the waitlist")).click()
    dialog = page.get_by_role("dialog", name="Leave the waitlist?")
    check_a11y(page, "leave-waitlist-dialog", width)
    dialog.get_by_role("button", name="Leave the waitlist").click()
    expect(page.get_by_role("status").filter(has_text="You left the waitlist")).to_be_visible()
    expect(waiting).to_contain_text("You are not waiting for a place on any day")
    assert api_as(stack, me).get(stack.url("/api/waitlist")).json() == []
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_admin_sees_a_days_requests_and_removes_from_its_waitlist(ui, width):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    full, _ = _office(stack, "queue", quota=1)
    when = next_week_monday() + timedelta(days=3)
    _book(stack, unique_email("seat"), full, when)
    first, second = unique_email("first"), unique_email("second")
    for who in (first, second):
        r = admin.post(stack.url("/api/waitlist"), json={"user": who, "office": full, "date": when.isoformat()})
        assert r.status_code == 201, r.text

    page = ui.signed_in(ADMIN, WIDTHS[width], f"/admin/bookings?office={full}&date={when.isoformat()}")
    queue = page.get_by_role("region", name="Waitlist", exact=True)
    rows = queue.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(first)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("1")
    expect(rows.nth(1)).to_contain_text(second)
    expect(page.get_by_test_id("booking-count")).to_contain_text("1 of 1 places booked")
    check_a11y(page, "admin-waitlist", width)

    queue.get_by_role("button", name=f"Remove {first} from the waitlist").click()
    dialog = page.get_by_role("dialog", name="Remove from the waitlist?")
    expect(dialog).to_contain_text(first)
    check_a11y(page, "admin-remove-waitlist-dialog", width)
    dialog.get_by_role("button", name="Remove from waitlist").click()
    expect(page.get_by_role("status").filter(has_text=f"Removed {first} from the waitlist")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(second)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("1")

    # A ballot office's day before its draw: the requests, with the draw's moment.
    ballot, _ = _office(stack, "drawn", quota=2, allocation="ballot", ballot_draw_days_before=4,
                        ballot_draw_time="09:30")
    later = office_today() + timedelta(days=8)
    requester = unique_email("asks")
    r = admin.post(stack.url("/api/bookings"), json={"user": requester, "office": ballot, "date": later.isoformat()})
    assert r.status_code == 202, r.text
    page.goto(f"/admin/bookings?office={ballot}&date={later.isoformat()}")
    requests = page.get_by_role("region", name="Requests", exact=True)
    expect(requests.locator("tbody tr")).to_have_count(1)
    expect(requests).to_contain_text(requester)
    expect(requests).to_contain_text(_drawn_on(later, 4, "09:30"))
    expect(page.get_by_test_id("booking-count")).to_contain_text("0 of 2 places booked")
    expect(page.get_by_role("region", name="Waitlist", exact=True)).to_contain_text("Nobody is waiting")
    check_a11y(page, "admin-requests", width)
    no_page_errors(page)


def test_admin_switches_an_office_to_the_ballot(ui):
    stack = ui.stack
    office, name = _office(stack, "switch", quota=10)
    page = ui.signed_in(ADMIN, path="/admin/offices")
    row = page.locator(f'tr[data-office="{office}"]')
    expect(row).to_contain_text("First come")
    row.get_by_role("button", name=re.compile("^Edit")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Draw days before")).to_have_count(0)
    dialog.get_by_label("How places are given").select_option("ballot")
    dialog.get_by_label("Draw days before").fill("3")
    dialog.get_by_label("Draw time").fill("09:30")
    check_a11y(page, "admin-office-ballot")
    dialog.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Ballot: drawn 3 days before at 09:30")
    saved = api_as(stack, ADMIN).get(stack.url(f"/api/offices/{office}")).json()
    assert (saved["allocation"], saved["ballot_draw_days_before"], saved["ballot_draw_time"]) == ("ballot", 3, "09:30")
    assert any(s["draw_at"] for s in saved["slots"])

    # back to first come
    row.get_by_role("button", name=re.compile("^Edit")).click()
    page.get_by_role("dialog").get_by_label("How places are given").select_option("first_come")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(row).to_contain_text("First come")
    assert api_as(stack, ADMIN).get(stack.url(f"/api/offices/{office}")).json()["allocation"] == "first_come"
    no_page_errors(page)
