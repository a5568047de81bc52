"""The web app runs under the gateway's Content-Security-Policy; the browser tests
would notice a violation (tests/browser/support.py fails a test on any)."""
from __future__ import annotations

from playwright.sync_api import expect

from .support import Browser


def test_inline_script_is_refused_and_the_refusal_is_caught(playwright_browser, stack):
    ui = Browser(playwright_browser, stack)
    try:
        page = ui.page()
        page.goto("/help")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert ui.csp_violations == []  # the app itself needs nothing the policy forbids
        # what an injected script (XSS) would try: an inline script and a script from elsewhere
        page.evaluate("""() => {
            const s = document.createElement("script");
            s.textContent = "window.__injected = true";
            document.body.appendChild(s);
        }""")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.__injected === undefined")
        assert any("script-src" in v for v in ui.csp_violations), ui.csp_violations
        ui.csp_violations.clear()  # seen and expected: the teardown check is for the app's own pages
    finally:
        ui.close()
