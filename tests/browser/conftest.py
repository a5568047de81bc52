"""Browser tests: real Chromium (Debian's, never a downloaded one) against the real running stack.

They sign in with the code read from the SMTP peer and never mock or intercept our own API. axe-core
(from web/node_modules) checks WCAG 2.1 AA on every screen at 360 px and 1280 px; screenshots of
each main screen at both widths go to artifacts/screenshots/.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.support.fixtures import running_stack

from .support import ARGS, WEB, Browser

CHROMIUM = os.environ.get("OB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def playwright_browser():
    if not (WEB / "dist" / "index.html").exists():
        pytest.fail("web/dist is missing: run the tests with ./ob test (it builds the web app)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: ./ob test installs it with apt-get when run as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def ui(playwright_browser, stack) -> Browser:
    """Browser contexts on the shared test stack; closed after the test."""
    b = Browser(playwright_browser, stack)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def reason_stack(database_server, amqp_server, tmp_path_factory):
    """A second stack with reason-to-book on and the test banner shown (config differs)."""
    config = {
        "reason_to_book_required": True,
        "notification_to_address": "office-team@my-company.example",
        "show_test_banner": True,
    }
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("reason-stack"), config) as s:
        yield s


@pytest.fixture
def reason_ui(playwright_browser, reason_stack) -> Browser:
    b = Browser(playwright_browser, reason_stack)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def email():
    return unique_email()


def unique_email(prefix: str = "web") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@my-company.example"
