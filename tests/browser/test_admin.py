"""The admin dashboard (SPEC §6): each screen's main action, axe and screenshots at both widths."""
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import unique_email
from .support import WIDTHS, api_as, check_a11y, next_week_monday, no_page_errors

ADMIN = "admin@my-company.example"


def book(stack, client, email, office, when, parking=False):
    r = client.post(stack.url("/api/bookings"), json={
        "user": email, "office": office, "date": when.isoformat(), "parking": parking})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_admin_bookings_list_sort_cancel_and_book_on_behalf(ui, width):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    day = next_week_monday() + timedelta(days=2)
    tag = uuid.uuid4().hex[:6]
    office = f"ab-{tag}"
    r = admin.post(stack.url("/api/offices"), json={
        "id": office, "name": f"Bookings {tag}", "quota": 5, "parking_quota": 2, "timezone": "Europe/London"})
    assert r.status_code == 201, r.text
    ann, bob = f"ann-{tag}@my-company.example", f"bob-{tag}@my-company.example"
    book(stack, admin, ann, office, day, parking=True)
    book(stack, admin, bob, office, day)

    page = ui.signed_in(ADMIN, WIDTHS[width], path=f"/admin/bookings?office={office}&date={day.isoformat()}")
    expect(page.get_by_test_id("booking-count")).to_contain_text("2 of 5 places booked, 1 of 2 parking spaces")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(ann)
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("Yes")
    page.get_by_role("button", name=re.compile("^Email")).click()  # already ascending: now descending
    expect(rows.nth(0)).to_contain_text(bob)
    expect(page.get_by_role("columnheader", name=re.compile("^Email"))).to_have_attribute("aria-sort", "descending")
    page.get_by_role("button", name=re.compile("^Parking")).click()
    expect(rows.nth(0)).to_contain_text(bob)  # ascending: No before Yes

    page.get_by_role("button", name=f"Cancel booking of {bob}").click()
    dialog = page.get_by_role("dialog", name="Cancel this booking?")
    check_a11y(page, "admin-cancel-dialog", width)
    dialog.get_by_role("button", name="Cancel booking").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("booking-count")).to_contain_text("1 of 5 places booked")

    carol = f"carol-{tag}@my-company.example"
    page.get_by_label("Email address").fill(carol)
    page.get_by_label("With a parking space").check()
    page.get_by_role("button", name=re.compile("^Book for")).click()
    expect(page.get_by_role("status").filter(has_text=f"for {carol}")).to_be_visible()
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("booking-count")).to_contain_text("2 of 5 places booked, 2 of 2 parking spaces")
    # The car park is now full: the server's message, with its reference.
    page.get_by_label("Email address").fill(f"dan-{tag}@my-company.example")
    page.get_by_label("With a parking space").check()
    page.get_by_role("button", name=re.compile("^Book for")).click()
    expect(page.get_by_role("alert")).to_contain_text("Office parking quota exceeded")
    expect(page.get_by_role("alert")).to_contain_text("reference")
    no_page_errors(page)


def test_admin_stats_table_chart_and_csv(ui):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    book(stack, admin, unique_email("stats"), "beta", next_week_monday() + timedelta(days=3))
    page = ui.signed_in(ADMIN, path="/admin/stats")
    expect(page.get_by_role("table", name=re.compile("^Utilisation per day and office"))).to_be_visible()
    expect(page.locator(".util-chart li").first).to_be_visible()
    expect(page.locator("tbody tr").first).to_be_visible()
    page.get_by_label("Office", exact=True).select_option("beta")
    expect(page.get_by_role("columnheader", name="Office Beta")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Office Alpha")).to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("office,date,bookings,parking")  # SPEC §11 appends columns


def test_admin_users_search_filter_paginate(ui):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    prefix = f"pg-{uuid.uuid4().hex[:6]}"
    for i in range(27):  # more than one page (25)
        quota = 2 if i < 3 else None
        r = admin.put(stack.url(f"/api/users/{prefix}-{i:02d}@my-company.example"), json={"quota": quota})
        assert r.status_code == 200, r.text
    page = ui.signed_in(ADMIN, path="/admin/users")
    page.get_by_label("Email starts with").fill(prefix)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text(f"{prefix}-00@")
    page.get_by_role("button", name="Next page").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    page.get_by_role("button", name="Previous page").click()
    expect(rows).to_have_count(25)
    # The filters live in the URL (a router transition), so click and wait rather than check().
    page.get_by_label("Custom quota").click()
    expect(page.get_by_label("Custom quota")).to_be_checked()
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("2 (custom)")
    page.reload()  # filters live in the URL
    expect(rows).to_have_count(3)


def test_admin_prepares_a_new_user_and_edits_role(ui):
    stack = ui.stack
    newbie = unique_email("new")
    page = ui.signed_in(ADMIN, path="/admin/users")
    page.get_by_label("Email address").fill(newbie)
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(newbie)
    page.get_by_label("Custom").check()
    page.get_by_label("Bookings per week (0 to 100)").fill("5")
    page.get_by_label("Office Admin").check()
    page.get_by_label("Office Beta").check()
    page.get_by_label(re.compile("^Auto-approved")).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    user = api_as(stack, ADMIN).get(stack.url(f"/api/users/{newbie}")).json()
    assert user["quota"] == 5 and user["custom_quota"] is True and user["auto_approved"] is True
    assert user["role"] == {"name": "Office Admin", "offices": ["beta"]}

    # An Office Admin without offices is refused before sending.
    page.get_by_label("Office Beta").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("at least one office")

    # The new Office Admin sees the users read-only, and the admin screens of their office.
    them = ui.signed_in(newbie, path=f"/admin/users/{ADMIN}")
    expect(them.get_by_role("heading", level=1)).to_have_text(ADMIN)
    expect(them.get_by_text("System Admin")).to_be_visible()
    expect(them.get_by_role("button", name="Save")).to_have_count(0)
    expect(them.get_by_role("button", name="Erase user")).to_have_count(0)
    expect(them.get_by_role("link", name="Offices")).to_have_count(0)
    check_a11y(them, "admin-user-readonly")


def test_admin_user_bookings_cancel_and_erase(ui):
    stack = ui.stack
    email = unique_email("erase")
    client = api_as(stack, email)
    booking = book(stack, client, email, "alpha", next_week_monday() + timedelta(days=3))
    page = ui.signed_in(ADMIN, path=f"/admin/users/{email}")
    table = page.get_by_role("table", name=f"Bookings of {email}")
    expect(table.locator("tbody tr")).to_have_count(1)
    page.get_by_role("button", name=re.compile("^Cancel booking on")).click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_role("status").filter(has_text="Cancelled the booking")).to_be_visible()
    assert api_as(stack, ADMIN).get(stack.url("/api/bookings"), params={"user": email}).json() == []
    assert booking["id"]

    page.get_by_role("button", name="Erase user").click()
    dialog = page.get_by_role("dialog", name="Erase this user?")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Erase user").click()
    expect(page).to_have_url(re.compile(r"/admin/users$"))


def test_check_in_times_show_in_the_offices_zone(ui):
    """A check-in at an office 14 hours ahead of UTC shows the office's clock on the admin's user
    page, the owner's bookings and the pass, whatever the viewer's browser zone."""
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    tag = uuid.uuid4().hex[:6]
    office, zone = f"kiri-{tag}", "Pacific/Kiritimati"
    r = admin.post(stack.url("/api/offices"), json={
        "id": office, "name": f"Kiritimati {tag}", "quota": 5, "parking_quota": 0, "timezone": zone})
    assert r.status_code == 201, r.text
    email = unique_email("zone")
    booking = book(stack, admin, email, office, datetime.now(ZoneInfo(zone)).date())
    code = admin.get(stack.url(f"/api/bookings/{booking['id']}/pass")).json()["code"]
    checked = admin.post(stack.url("/api/passes/verify"), json={"code": code, "office": office})
    assert checked.status_code == 200, checked.text
    at = datetime.fromisoformat(checked.json()["checked_in_at"])
    local = at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
    assert local != at.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M")

    page = ui.signed_in(ADMIN, path=f"/admin/users/{email}", timezone_id="Europe/London")
    row = page.get_by_role("table", name=f"Bookings of {email}").locator("tbody tr")
    expect(row.locator("td").nth(3)).to_have_text(local)
    own = ui.signed_in(email, path="/bookings", timezone_id="Europe/London")
    item = own.locator(f'[data-booking="{booking["id"]}"]')
    expect(item).to_contain_text(f"checked in {local}")
    own.goto(f"/booking/{booking['id']}")
    expect(own.locator(".pass-checked-in")).to_contain_text(local)


def test_admin_offices_create_edit_retire_unretire(ui):
    stack = ui.stack
    oid = f"web-{uuid.uuid4().hex[:6]}"
    page = ui.signed_in(ADMIN, path="/admin/offices")
    form = page.get_by_role("region", name="New office")
    form.get_by_label("Id (never changes)").fill(oid)
    form.get_by_label("Name").fill("Web Test Office")
    form.get_by_label("Places per day").fill("12")
    form.get_by_label("Parking spaces per day").fill("3")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_role("button", name="Create office").click()
    row = page.locator(f'tr[data-office="{oid}"]')
    expect(row).to_contain_text("Web Test Office")
    expect(row).to_contain_text("Europe/Paris")

    # A bad time zone is refused with a clear message.
    form.get_by_label("Id (never changes)").fill(f"{oid}-x")
    form.get_by_label("Name").fill("Nowhere")
    form.get_by_label("Time zone").fill("Mars/Olympus")
    form.get_by_role("button", name="Create office").click()
    expect(form.get_by_role("alert")).to_contain_text("time zone")

    row.get_by_role("button", name=re.compile("^Edit")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Web Test Office Renamed")
    dialog.get_by_label("Places per day").fill("20")
    check_a11y(page, "admin-office-edit")
    dialog.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Web Test Office Renamed")
    expect(row.locator("td").nth(1)).to_have_text("20")

    row.get_by_role("button", name=re.compile("^Retire")).click()
    page.get_by_role("dialog").get_by_role("button", name="Retire office").click()
    expect(row).to_contain_text("Retired")
    office = api_as(stack, ADMIN).get(stack.url(f"/api/offices/{oid}")).json()
    assert office["retired"] is True
    row.get_by_role("button", name=re.compile("^Un-retire")).click()
    expect(row).to_contain_text("Active")


def test_admin_audit_filter_by_actor(ui):
    page = ui.signed_in(ADMIN, path="/admin/audit")
    rows = page.locator(".audit-item")
    expect(rows.first).to_be_visible()
    page.get_by_label("Actor email").fill(ADMIN)
    page.get_by_role("button", name="Filter").click()
    expect(rows.first).to_contain_text(ADMIN)
    for meta in page.locator(".audit-item .audit-meta").all_inner_texts():
        assert meta.split(" · ")[1] == ADMIN


def test_admin_audit_filter_by_office_and_dates(ui):
    stack = ui.stack
    admin = api_as(stack, ADMIN)
    tag = uuid.uuid4().hex[:6]
    office = f"au-{tag}"
    r = admin.post(stack.url("/api/offices"), json={
        "id": office, "name": f"Audited {tag}", "quota": 5, "parking_quota": 0, "timezone": "Europe/London"})
    assert r.status_code == 201, r.text
    booking = book(stack, admin, f"eve-{tag}@my-company.example", office, next_week_monday())
    today_utc = datetime.now(UTC).date()

    page = ui.signed_in(ADMIN, path="/admin/audit")
    rows = page.locator(".audit-item")
    expect(rows.first).to_be_visible()
    page.get_by_label("Office", exact=True).select_option(label=f"Audited {tag}")
    page.get_by_role("button", name="Filter").click()
    # the office's creation and the booking, and nothing of any other office
    expect(rows).to_have_count(2)
    expect(page.locator('.audit-item[data-action="booking_created"]')).to_contain_text(booking["id"])
    assert {m.split(" · ")[2] for m in page.locator(".audit-item .audit-meta").all_inner_texts()} == {f"Audited {tag}"}

    page.get_by_label("From", exact=True).fill(today_utc.isoformat())
    page.get_by_label("To", exact=True).fill(today_utc.isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    page.get_by_label("From", exact=True).fill((today_utc + timedelta(days=1)).isoformat())
    page.get_by_label("To", exact=True).fill((today_utc + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No changes recorded.")).to_be_visible()
    # a range that ends before it starts: the server's message, with its reference
    page.get_by_label("To", exact=True).fill(today_utc.isoformat())
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid date range: from is after to")
    expect(page.get_by_role("alert")).to_contain_text("reference")
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_admin_screens_accessible(ui, width):
    page = ui.signed_in(ADMIN, WIDTHS[width], "/admin")
    expect(page).to_have_url(re.compile(r"/admin/bookings"))
    nav = page.get_by_role("navigation", name="Admin")
    for link, heading, shot in [
        ("Bookings", "Bookings", "admin-bookings"),
        ("Stats", "Stats", "admin-stats"),
        ("Users", "Users", "admin-users"),
        ("Offices", "Offices", "admin-offices"),
        ("Audit log", "Audit log", "admin-audit"),
    ]:
        nav.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        expect(page.get_by_role("alert")).to_have_count(0)
        check_a11y(page, shot, width)
    page.goto(f"/admin/users/{ADMIN}")
    expect(page.get_by_role("heading", level=1, name=ADMIN)).to_be_visible()
    check_a11y(page, "admin-user", width)
    no_page_errors(page)


def test_admin_is_hidden_from_default_users(ui, email):
    page = ui.signed_in(email, path="/admin/users")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")).to_have_count(0)
