"""Helpers of the browser tests: contexts at phone and desktop widths, sign-in, axe, screenshots."""
from __future__ import annotations

import functools
import json
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"

ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = {"phone": PHONE, "desktop": DESKTOP}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Browser:
    """Opens browser contexts on a stack and signs people in."""

    def __init__(self, browser, stack):
        self.browser = browser
        self.stack = stack
        self.contexts = []
        self.csp_violations: list[str] = []

    @property
    def base(self) -> str:
        return self.stack.gateway_url

    def page(self, viewport: dict = DESKTOP, storage_state: dict | None = None, timezone_id: str | None = None):
        context = self.browser.new_context(viewport=viewport, base_url=self.base, accept_downloads=True,
                                           storage_state=storage_state, timezone_id=timezone_id)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        # The gateway's Content-Security-Policy applies to every page: any violation the
        # browser reports fails the test when its contexts close (see `close`).
        context.add_init_script(CSP_REPORTER)
        page = context.new_page()
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("console", lambda msg: _note_csp(self.csp_violations, msg.text))
        page.errors = []  # type: ignore[attr-defined]
        return page

    def signed_in(self, email: str, viewport: dict = DESKTOP, path: str = "/", timezone_id: str | None = None):
        """A page whose context holds a session of `email`, signed in through the real API (the
        code read from the SMTP peer); the sign-in screen itself is tested in test_sign_in.py.
        The session's cookies are reused for later pages of the same person (code requests are
        rate-limited per address), so tests must not sign these sessions out."""
        key = (id(self.stack), email)
        state = _SESSIONS.get(key)
        if state is None:
            page = self.page(viewport, timezone_id=timezone_id)
            before = len(self.stack.smtp.to(email))
            r = page.context.request.post(self.base + "/api/auth/code", data={"email": email})
            assert r.status == 202, r.text()
            code = sign_in_code(self.stack, email, before)
            r = page.context.request.post(self.base + "/api/auth/verify", data={"email": email, "code": code})
            assert r.status == 200, r.text()
            _SESSIONS[key] = page.context.storage_state()
        else:
            page = self.page(viewport, storage_state=state, timezone_id=timezone_id)
        page.goto(path)
        return page

    def close(self) -> None:
        for context in self.contexts:
            try:
                context.close()
            except Exception:  # noqa: BLE001
                pass
        self.contexts.clear()
        violations, self.csp_violations = self.csp_violations, []
        assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


# Reports every CSP violation of a page to its console (Chromium also logs "Refused to …
# Content Security Policy" itself; both are caught by `_note_csp`).
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _note_csp(violations: list[str], text: str) -> None:
    if "CSP violation" in text or "Content Security Policy" in text:
        violations.append(text)


_SESSIONS: dict = {}  # (stack, email) -> browser storage state of a signed-in session
_CLIENTS: dict = {}  # (stack, email) -> requests.Session with a bearer token


def api_as(stack, email: str) -> requests.Session:
    """A bearer-token API client, one per person and stack (for arranging data and checking
    results; the screens under test use the browser)."""
    key = (id(stack), email)
    if key not in _CLIENTS:
        before = len(stack.smtp.to(email))
        r = requests.post(stack.url("/api/auth/code"), json={"email": email}, timeout=10)
        assert r.status_code == 202, r.text
        code = sign_in_code(stack, email, before)
        r = requests.post(stack.url("/api/auth/verify"), json={"email": email, "code": code}, timeout=10)
        assert r.status_code == 200, r.text
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {r.json()['token']}"
        _CLIENTS[key] = session
    return _CLIENTS[key]


def sign_in_code(stack, email: str, after: int = 0, timeout: float = 15) -> str:
    """The code of the first sign-in mail to `email` after its first `after` mails (booking mails
    to the same person may arrive in between)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in stack.smtp.to(email)[after:]:
            if "sign-in code" in (msg["Subject"] or ""):
                match = re.search(r"\b(\d{6})\b", stack.smtp.text(msg))
                if match:
                    return match.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no sign-in code mailed to {email}")


def office_today(tz: str = "Europe/London") -> date:
    return datetime.now(ZoneInfo(tz)).date()


def next_week_monday(tz: str = "Europe/London") -> date:
    today = office_today(tz)
    return today - timedelta(days=today.weekday()) + timedelta(days=7)


@functools.cache
def _axe_source() -> str:
    return AXE.read_text()


def check_a11y(page, name: str | None = None, viewport_name: str | None = None) -> None:
    """No axe-core WCAG 2.1 A/AA violations on the page; a screenshot when `name` is given."""
    # Not "networkidle": the live-availability EventSource keeps a request open.
    page.wait_for_load_state("load")
    # A locator wait, not wait_for_function: Playwright evaluates a string predicate with eval,
    # which the page's CSP refuses (no 'unsafe-eval').
    from playwright.sync_api import expect

    expect(page.locator(".loading")).to_have_count(0)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not as a <script> tag: the page's CSP refuses
        # inline scripts (and the test would fail on that violation).
        page.evaluate(_axe_source() + "\n;undefined")
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({ target: n.target, summary: n.failureSummary })) }));
        }""",
        WCAG_TAGS,
    )
    # Reflow (WCAG 1.4.10): the page itself never scrolls sideways; wide tables scroll in their box.
    overflow = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return null;
        const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 1
            && !e.closest('.table-wrap, dialog'));
        return { width, scrollWidth: document.documentElement.scrollWidth,
                 offenders: wide.slice(-5).map(e => e.tagName + '.' + e.className) };
    }""")
    if name:
        screenshot(page, name, viewport_name)
    assert result == [], f"axe violations on {page.url}:\n{json.dumps(result, indent=2)}"
    assert overflow is None, f"the page scrolls sideways on {page.url}: {overflow}"


def screenshot(page, name: str, viewport_name: str | None = None) -> Path:
    width = viewport_name or ("phone" if page.viewport_size["width"] < 600 else "desktop")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_page_errors(page) -> None:
    assert page.errors == [], f"JavaScript errors: {page.errors}"


def text_re(text: str) -> re.Pattern:
    return re.compile(re.escape(text))


def qr_video(text: str, path: Path, size: tuple[int, int] = (640, 480), frames: int = 10) -> Path:
    """A Y4M video showing the QR code of `text` (Chromium's fake camera plays it in a loop).
    The module matrix comes from the web app's own `qrcode` package (node)."""
    import subprocess

    script = ("const q=require('qrcode');const c=q.create(process.argv[1],{errorCorrectionLevel:'M'});"
              "process.stdout.write(JSON.stringify({size:c.modules.size,data:Array.from(c.modules.data)}))")
    out = subprocess.run(["node", "-e", script, text], cwd=WEB, check=True, capture_output=True, text=True).stdout
    matrix = json.loads(out)
    n, data = matrix["size"], matrix["data"]
    width, height = size
    quiet = 4
    scale = max(1, min(width, height) // (n + 2 * quiet))
    left = (width - n * scale) // 2
    top = (height - n * scale) // 2
    y_plane = bytearray([235]) * (width * height)
    for row in range(n):
        for col in range(n):
            if data[row * n + col]:
                for dy in range(scale):
                    start = (top + row * scale + dy) * width + left + col * scale
                    y_plane[start:start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n")
            f.write(y_plane)
            f.write(chroma)
            f.write(chroma)
    return path
