"""Sign-in with the company's identity provider (SPEC §16) in the browser: the button on the
sign-in screen, the real provider's own login and consent pages (oidc-provider, tests/oidc/), and
back on the web app signed in, at the page the person asked for; a cancelled sign-in comes back
with its message. axe on the sign-in screens at 360 px and desktop."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.support.oidc import PROVIDER_NAME, oidc_stack

from .support import WIDTHS, Browser, check_a11y, no_page_errors

LOOPBACK = re.compile(r"^https?://127\.0\.0\.1[:/]")


@pytest.fixture(scope="module")
def sso(database_server, amqp_server, tmp_path_factory):
    with oidc_stack(database_server, amqp_server, tmp_path_factory.mktemp("oidc-browser")) as (stack, provider):
        yield stack, provider


@pytest.fixture
def sso_ui(playwright_browser, sso) -> Browser:
    b = Browser(playwright_browser, sso[0])
    try:
        yield b
    finally:
        b.close()


def open_page(ui: Browser, width: str):
    page = ui.page(WIDTHS[width])
    # The provider's development pages import a web font from the internet: tests reach only
    # this machine, so requests anywhere else are answered "failed" at once.
    page.context.route(lambda url: not LOOPBACK.match(url), lambda route: route.abort())
    return page


def person(provider, groups: list[str] | None = None) -> tuple[str, str]:
    login = f"web-{uuid.uuid4().hex[:8]}"
    email = f"{login}@my-company.example"
    provider.set_account(login, email, groups)
    return login, email


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_sign_in_with_the_provider_lands_where_the_person_was_going(sso_ui, sso, width):
    _, provider = sso
    login, email = person(provider, ["alpha-admins"])
    page = open_page(sso_ui, width)
    page.goto("/bookings")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    button = page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}")
    expect(button).to_be_visible()
    expect(page.get_by_label("Work email address")).to_be_visible()  # email codes stay on (otac + oidc)
    check_a11y(page, "sign-in-sso", width)

    button.click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + r"/interaction/"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent

    expect(page).to_have_url(re.compile(re.escape(sso_ui.base) + r"/bookings$"))
    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text(email)
    expect(page.get_by_role("link", name="Admin")).to_be_visible()  # Office Admin from the group
    # The session survives a reload (cookie), as after an email code.
    page.reload()
    expect(page.get_by_role("heading", name="My bookings")).to_be_visible()
    no_page_errors(page)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_cancelled_at_the_provider_comes_back_with_a_message(sso_ui, sso, width):
    _, provider = sso
    login, _ = person(provider)
    page = open_page(sso_ui, width)
    page.goto("/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.locator("input[name=login]").fill(login)
    page.get_by_role("link", name="[ Cancel ]").click()

    expect(page).to_have_url(re.compile(r"/signin\?error=access_denied&ref=\w+$"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(f"Sign-in with {PROVIDER_NAME} was cancelled")
    expect(alert).to_contain_text(re.compile(r"reference \w+"))
    expect(page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}")).to_be_visible()
    check_a11y(page, "sign-in-sso-refused", width)
    no_page_errors(page)


def test_refusal_messages_from_the_gateway(sso_ui, sso):
    """A refusal the gateway decided (here: a callback with no sign-in in progress) is explained."""
    page = open_page(sso_ui, "desktop")
    page.goto("/api/auth/oidc/callback?code=made-up&state=made-up")
    expect(page).to_have_url(re.compile(r"/signin\?error=state_invalid&ref=\w+$"))
    expect(page.get_by_role("alert")).to_contain_text("Your sign-in took too long or was started in another window")
    no_page_errors(page)
