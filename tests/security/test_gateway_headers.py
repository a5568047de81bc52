"""Production mode and browser security headers at the gateway (SPEC §17).

The test stack runs as every deployment does: no OB_MODE, so production mode.
"""
from __future__ import annotations

import re

import requests

from gateway.app import CONTENT_SECURITY_POLICY
from tests.support.admin import ADMIN


def sign_in(stack, email: str) -> requests.Response:
    before = len(stack.smtp.to(email))
    assert requests.post(stack.url("/api/auth/code"), json={"email": email}, timeout=10).status_code == 202
    code = stack.smtp.code_for(email, count=before + 1)
    r = requests.post(stack.url("/api/auth/verify"), json={"email": email, "code": code}, timeout=10)
    assert r.status_code == 200, r.text
    return r


def test_production_mode_cookies_hsts_and_no_development_hint(stack):
    r = sign_in(stack, "prod-mode@my-company.example")
    set_cookies = r.raw.headers.getlist("Set-Cookie")
    assert len(set_cookies) == 2 and all("; Secure" in c for c in set_cookies), set_cookies
    for path in ("/api/config", "/", "/api/me"):
        hsts = requests.get(stack.url(path), timeout=10).headers.get("Strict-Transport-Security", "")
        assert re.fullmatch(r"max-age=31536000; includeSubDomains", hsts), (path, hsts)
    config = requests.get(stack.url("/api/config"), timeout=10)
    assert "X-Dev-Mailbox" not in config.headers and "mailbox" not in config.text.lower()


def test_every_answer_carries_the_browser_security_headers(stack):
    admin = stack.client(ADMIN)
    for r in (requests.get(stack.url("/"), timeout=10), requests.get(stack.url("/admin/users"), timeout=10),
              requests.get(stack.url("/api/config"), timeout=10), admin.get(stack.url("/api/me"), timeout=10),
              requests.get(stack.url("/api/nope"), timeout=10)):
        h = r.headers
        assert h["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, r.url
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "same-origin"
        assert "camera=(self)" in h["Permissions-Policy"] and "microphone=()" in h["Permissions-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"].replace(
        "wasm-unsafe-eval", "")


def test_authenticated_answers_and_passes_are_never_stored(stack):
    admin = stack.client(ADMIN)
    booking = admin.post(stack.url("/api/bookings"), json={
        "user": "no-store@my-company.example", "office": "beta", "date": stack_today(admin, stack),
        "parking": False}, timeout=10)
    assert booking.status_code == 201, booking.text
    pass_ = admin.get(stack.url(f"/api/bookings/{booking.json()['id']}/pass"), timeout=10)
    for r in (pass_, admin.get(stack.url("/api/me"), timeout=10), admin.get(stack.url("/api/bookings"), timeout=10),
              admin.get(stack.url("/api/users"), timeout=10), booking):
        assert r.status_code in (200, 201) and r.headers["Cache-Control"] == "no-store", (r.url, r.headers)
    # the app shell is revalidated, so a new release is picked up on reload
    assert requests.get(stack.url("/bookings"), timeout=10).headers["Cache-Control"] == "no-cache"


def stack_today(client, stack) -> str:
    return client.get(stack.url("/api/offices/beta"), timeout=10).json()["slots"][0]["date"]


def test_static_route_tells_nothing_about_files_outside_the_web_app(stack):
    missing = requests.get(stack.url("/no-such-file-here.txt"), timeout=10)
    for probe in ("/..%2f..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/../../etc/passwd",
                  "/..%2f..%2fpyproject.toml", "/..%2fpackage.json", "/..%2fsrc%2fmain.tsx"):
        r = requests.get(stack.url(probe), timeout=10)
        assert (r.status_code, r.content) == (missing.status_code, missing.content), probe
        assert "root:" not in r.text and "[project]" not in r.text
    assert missing.status_code == 200 and '<div id="root">' in missing.text  # the app shell


def test_metrics_labels_come_from_a_closed_set(stack):
    invented = "X" * 2000
    for method in (invented, "BREW", "PROPFIND"):
        r = requests.request(method, stack.url("/api/config"), timeout=10)
        assert r.status_code == 405
    metrics = requests.get(stack.url("/metrics"), timeout=10).text
    assert invented not in metrics and "BREW" not in metrics and "PROPFIND" not in metrics
    assert re.search(r'ob_http_requests_total\{method="other",route="unmatched",status="405"\} [1-9]', metrics)
