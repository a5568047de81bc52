"""Read-only mode (SPEC §8, §10): every authenticated write answers 503 "Service currently in
read-only mode", after the 401 check and before anything else (roles, bodies, ids); sign-in,
sign-out, reads and the self-test keep working. The stack runs with `read_only: true`."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from obcommon.config import Env, load_config

from .support.admin import ADMIN, Api, day, expect, who
from .support.fixtures import running_stack

SELFTEST_KEY = "selftest-key-for-the-read-only-tests"
READ_ONLY = "Service currently in read-only mode"
# Writes that are not data changes of SPEC §8's list: they keep working in read-only mode.
NOT_GATED = {("POST", "/api/auth/code"), ("POST", "/api/auth/verify"), ("POST", "/api/auth/logout"),
             ("POST", "/api/selftest")}
# Writes whose credential is in the request itself (a mail's signed release link, SPEC §11): no
# session to check, so read-only mode answers even an anonymous caller.
NO_SESSION_WRITES = {("POST", "/api/release-links")}


@pytest.fixture(scope="module")
def rostack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("readonly"), {"read_only": True},
                       extra_env={"SELFTEST_KEY": SELFTEST_KEY}) as s:
        yield s


def write_routes(stack) -> list[tuple[str, str]]:
    """Every POST/PUT/DELETE/PATCH route under /api (from the gateway's URL map), with its path
    parameters filled in."""
    from gateway.app import create_app

    app = create_app(load_config(stack.config_path), Env.from_environ(stack.env), listen=False)
    try:
        routes = sorted({(method, rule.rule) for rule in app.url_map.iter_rules()
                         if rule.rule.startswith("/api/") and "<path:" not in rule.rule
                         for method in rule.methods - {"GET", "HEAD", "OPTIONS"}} - NOT_GATED)
    finally:
        app.extensions["ob"].rpc.close()
    values = {"email": who("target"), "office_id": "alpha", "booking_id": uuid.uuid4().hex}
    return [(m, re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda g: values.get(g.group(1), "x"), rule)) for m, rule in routes]


def test_every_write_is_503_after_the_401_check(rostack):
    routes = write_routes(rostack)
    assert {("POST", "/api/bookings"), ("PUT", "/api/offices/alpha"), ("POST", "/api/offices")} <= set(routes)
    admin, default = Api(rostack, ADMIN), Api(rostack, who())
    for method, path in routes:
        if (method, path) in NO_SESSION_WRITES:
            expect(requests.request(method, rostack.url(path), json={}, timeout=10), 503, READ_ONLY)
            continue
        expect(requests.request(method, rostack.url(path), json={}, timeout=10), 401, "Unauthorized")
        for caller in (admin, default):  # before the role check (403) and the body check (400)
            r = caller.http.request(method, rostack.url(path), json={"nonsense": True}, timeout=10)
            expect(r, 503, READ_ONLY)


def test_sign_in_reads_sign_out_and_the_self_test_keep_working(rostack):
    admin = Api(rostack, ADMIN)
    for path in ("/api/me", "/api/offices", "/api/offices/alpha", "/api/bookings", "/api/users", "/api/stats",
                 "/api/audit", f"/api/users/{ADMIN}", "/api/config"):
        expect(admin.get(path), 200)
    r = expect(requests.post(rostack.url("/api/selftest"), headers={"X-Selftest-Key": SELFTEST_KEY}, timeout=30),
               200).json()
    assert r["bookings"] == 1 and r["office"] == "alpha" and r["date"] == day(1)
    listed = expect(admin.get("/api/bookings", user="selftest@my-company.example", include_cancelled="true"), 200)
    assert [b["status"] for b in listed.json()] == ["cancelled"]
    expect(admin.post("/api/auth/logout"), 204)
    expect(admin.get("/api/me"), 401)
