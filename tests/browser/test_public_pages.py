"""Help, privacy and 404 are readable without signing in; deep links serve the app on reload."""
import pytest
from playwright.sync_api import expect

from .support import WIDTHS, check_a11y, no_page_errors


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("path,heading,shot", [
    ("/help", "Help", "help"),
    ("/privacy", "Privacy", "privacy"),
    ("/no/such/page", "Page not found", "not-found"),
])
def test_public_page(ui, width, path, heading, shot):
    page = ui.page(WIDTHS[width])
    page.goto(path)
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
    check_a11y(page, shot, width)
    no_page_errors(page)


def test_help_links_to_privacy_and_back(ui):
    page = ui.page()
    page.goto("/help")
    page.get_by_role("main").get_by_role("link", name="privacy notice").click()
    expect(page.get_by_role("heading", level=1, name="Privacy")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", level=1, name="Help")).to_be_visible()


@pytest.mark.parametrize("path", ["/admin/users", "/booking/some-id", "/verify", "/bookings"])
def test_deep_links_reload_into_the_app(ui, path):
    page = ui.page()
    response = page.goto(path)
    assert response.status == 200
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_unknown_api_path_is_json_not_the_app(ui):
    page = ui.page()
    response = page.goto("/api/no-such-thing")
    assert response.status == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["reference"]
