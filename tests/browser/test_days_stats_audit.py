"""Issue 12 in the browser: a closed day and a day's own capacity on the booking screen (SPEC §15),
the admin day editor (close with cancel_existing behind a confirmation), the stats pivot and chart,
and the audit log in words. axe at 360 px and desktop."""
import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import unique_email
from .support import WIDTHS, api_as, check_a11y, next_week_monday, no_page_errors

ADMIN = "admin@my-company.example"


def new_office(stack, admin, prefix, quota=5, parking=2):
    tag = uuid.uuid4().hex[:6]
    office, name = f"{prefix}-{tag}", f"{prefix.title()} {tag}"
    r = admin.post(stack.url("/api/offices"), json={
        "id": office, "name": name, "quota": quota, "parking_quota": parking, "timezone": "Europe/London"})
    assert r.status_code == 201, r.text
    return office, name, tag


def book(stack, client, email, office, when, parking=False):
    for _ in range(50):  # booking's read model learns a just-created office within moments
        r = client.post(stack.url("/api/bookings"), json={
            "user": email, "office": office, "date": when.isoformat(), "parking": parking})
        if r.status_code != 400:
            break
    assert r.status_code == 201, r.text
    return r.json()


def set_day(stack, admin, office, when, body):
    r = admin.put(stack.url(f"/api/offices/{office}/days/{when.isoformat()}"), json=body)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_closed_day_and_a_days_own_quota_on_the_booking_screen(ui, width):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    office, name, _ = new_office(stack, admin, "shut", quota=5, parking=2)
    monday = next_week_monday()
    closed_day, small_day = monday + timedelta(days=2), monday + timedelta(days=3)
    set_day(stack, admin, office, closed_day, {"closed": True, "note": "Closed for the boiler repair"})
    set_day(stack, admin, office, small_day, {"quota": 1, "parking_quota": 0})

    page = ui.signed_in(unique_email(), WIDTHS[width])
    page.get_by_role("button", name=re.compile(re.escape(name))).click()
    expect(page.locator(".office-name")).to_contain_text(name)
    page.get_by_role("button", name="Next week").click()
    closed = page.locator(f'li[data-date="{closed_day.isoformat()}"]')
    expect(closed.locator(".badge-closed")).to_have_text("Closed")
    expect(closed.get_by_test_id("closed-day")).to_contain_text(f"{name} is closed on this day.")
    expect(closed.get_by_test_id("closed-day")).to_contain_text("Closed for the boiler repair")
    # no booking on a closed day; its waitlist can be joined instead (SPEC §12, §15)
    expect(closed.get_by_role("button", name=re.compile("^Book"))).to_have_count(0)
    expect(closed.get_by_role("button", name=re.compile("^Join the waitlist")).first).to_be_visible()
    expect(closed).to_contain_text("Office closed on this day")
    small = page.locator(f'li[data-date="{small_day.isoformat()}"]')
    expect(small.locator(".avail-places")).to_contain_text("1 of 1 places left")
    expect(small.locator(".avail-parking")).to_have_count(0)
    expect(small).to_contain_text("No parking this day")
    check_a11y(page, "home-closed-day", width)
    # reopened by an admin: the screen follows (live event, or the next read)
    set_day(stack, admin, office, closed_day, {"closed": False, "note": None})
    page.reload()
    page.get_by_role("button", name="Next week").click()
    expect(closed.locator(".badge-closed")).to_have_count(0)
    expect(closed.get_by_role("button", name=re.compile("^Book")).first).to_be_enabled()
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_admin_day_editor_lowers_the_quota_then_closes_and_cancels_with_confirmation(ui, width):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    office, name, tag = new_office(stack, admin, "edit", quota=5, parking=2)
    day = next_week_monday() + timedelta(days=1)
    ann, bob = f"ann-{tag}@my-company.example", f"bob-{tag}@my-company.example"
    book(stack, admin, ann, office, day, parking=True)
    book(stack, admin, bob, office, day)

    page = ui.signed_in(ADMIN, WIDTHS[width], path=f"/admin/bookings?office={office}&date={day.isoformat()}")
    editor = page.get_by_role("form", name=f"This day at {name}")
    expect(editor.get_by_test_id("day-state")).to_contain_text("5 places, 2 parking spaces (the office's usual capacity)")
    editor.get_by_label("Places this day").fill("1")
    editor.get_by_role("button", name="Save this day").click()
    expect(editor.get_by_role("status")).to_contain_text("Saved.")
    expect(editor.get_by_test_id("day-state")).to_contain_text("1 places, 2 parking spaces (changed for this day) · 2 booked")
    expect(page.locator("tbody tr")).to_have_count(2)  # lowering keeps the bookings
    expect(page.get_by_test_id("booking-count")).to_contain_text("2 of 1 places booked, 1 of 2 parking spaces")
    check_a11y(page, "admin-day-editor", width)

    editor.get_by_label("Office closed this day").check()
    editor.get_by_label("Note shown to everyone booking this day").fill("Water main repair: work from home")
    editor.get_by_label(re.compile("^Cancel the bookings already made")).check()
    editor.get_by_role("button", name="Save this day").click()
    dialog = page.get_by_role("dialog", name="Close the day and cancel its bookings?")
    expect(dialog).to_contain_text("The 2 bookings already made will be cancelled")
    check_a11y(page, "admin-day-close-dialog", width)
    dialog.get_by_role("button", name="Close and cancel bookings").click()
    expect(editor.get_by_role("status")).to_contain_text("2 bookings were cancelled")
    expect(page.get_by_text("No bookings on this day.")).to_be_visible()
    expect(page.get_by_test_id("booking-count")).to_contain_text("Closed · 0 of 1 places booked")
    state = admin.get(stack.url(f"/api/offices/{office}/days/{day.isoformat()}")).json()
    assert (state["closed"], state["note"], state["booked"]) == (True, "Water main repair: work from home", 0)
    closure = stack.smtp.wait_for(ann, count=2)[-1]
    assert "Water main repair" in stack.smtp.text(closure)

    editor.get_by_role("button", name="Back to the usual capacity").click()
    expect(editor.get_by_test_id("day-state")).to_contain_text("5 places, 2 parking spaces (the office's usual capacity)")
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_stats_pivot_utilisation_chart_and_csv(ui, width):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    office, name, tag = new_office(stack, admin, "stat", quota=5, parking=1)
    day = next_week_monday() + timedelta(days=4)
    book(stack, admin, f"sam-{tag}@my-company.example", office, day, parking=True)

    page = ui.signed_in(ADMIN, WIDTHS[width], path="/admin/stats")
    page.get_by_label("Office", exact=True).select_option(label=name)
    table = page.get_by_role("table", name=re.compile("^Utilisation per day and office"))
    expect(table.get_by_role("columnheader", name=name)).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(1)  # only the day with a booking, no zero rows
    row = table.locator("tbody tr").first
    expect(row).to_contain_text("20%")
    expect(row).to_contain_text("1/5")
    expect(page.get_by_test_id("stats-basis")).to_contain_text("÷ places")
    expect(page.get_by_test_id("stats-summary")).to_contain_text("without bookings hidden")
    chart = page.locator(".util-chart li")
    expect(chart).to_have_count(1)
    expect(chart.first).to_contain_text("20%")
    check_a11y(page, "admin-stats", width)
    page.get_by_label("Show days without bookings").check()
    assert table.locator("tbody tr").count() > 1
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    text = open(download_info.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("office,date,bookings,parking")
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_audit_log_in_words_with_details(ui, width):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    office, name, tag = new_office(stack, admin, "words", quota=5, parking=2)
    day = next_week_monday() + timedelta(days=2)
    book(stack, admin, f"jane.doe-{tag}@my-company.example", office, day, parking=True)
    set_day(stack, admin, office, day, {"closed": True, "note": "Fire drill", "cancel_existing": True})
    r = admin.put(stack.url(f"/api/offices/{office}"), json={"quota": 4})
    assert r.status_code == 200, r.text

    page = ui.signed_in(ADMIN, WIDTHS[width], path="/admin/audit")
    page.get_by_label("Office", exact=True).select_option(label=name)
    page.get_by_role("button", name="Filter").click()
    items = page.locator(".audit-item")
    expect(items.filter(has_text=f"{name}: quota 5 → 4")).to_have_count(1)
    expect(items.filter(has_text=re.compile(rf"Admin booked {re.escape(name)} for \w+ \d+ \w+ on behalf of "
                                            rf"Jane Doe {tag.capitalize()}, with parking"))).to_have_count(1)
    expect(items.filter(has_text=re.compile(rf"Admin closed {re.escape(name)} on .*“Fire drill”"))).to_have_count(1)
    expect(items.filter(has_text=re.compile(rf"Admin cancelled Jane Doe {tag.capitalize()}'s booking at"))).to_have_count(1)
    created = items.filter(has_text=f"Admin created {name}: 5 places, 2 parking spaces")
    expect(created).to_have_count(1)
    details = created.locator("details")
    expect(details.locator("pre")).to_be_hidden()
    details.locator("summary").click()
    expect(details.locator("pre")).to_contain_text(f'"id": "{office}"')
    check_a11y(page, "admin-audit-words", width)
    no_page_errors(page)
