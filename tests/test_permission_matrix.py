"""The permission matrix (SPEC §1, §9): every endpoint of the API called as anonymous, Default,
Office Admin of office A, Office Admin of office B and System Admin, through the real gateway.

The expected statuses are written by hand from SPEC §1 and §9 (never computed by the code under
test). The rows must cover exactly the gateway's URL map under /api: a new endpoint without a row
fails `test_rows_cover_exactly_the_api_url_map`. Further tests check that answers never leak data
of offices or users outside the caller's rights (listings, counts, audit records, error messages).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest
import requests

from obcommon.config import Env, load_config

from .support.admin import ADMIN, Api, day, expect, wait_until, who
from .support.fixtures import running_stack

A, B, C = "alpha", "beta", "gamma"  # C: an office only System Admins touch (edited by the matrix)
SELFTEST_KEY = "selftest-key-for-the-permission-matrix"
CONFIG = {
    "offices": [
        {"id": A, "name": "Office A", "quota": 500, "parking_quota": 10},
        {"id": B, "name": "Office B", "quota": 500, "parking_quota": 10},
        {"id": C, "name": "Office C", "quota": 500, "parking_quota": 10},
    ],
    "default_weekly_quota": 50,
    "advance_booking_days": 14,
}

ANON, DEFAULT, OA_A, OA_B, SYS = "anonymous", "default", "office_admin_A", "office_admin_B", "system_admin"
ROLES = (ANON, DEFAULT, OA_A, OA_B, SYS)


class World:
    """The callers of the matrix and the data their requests point at."""

    def __init__(self, stack):
        self.stack = stack
        self.admin = Api(stack, ADMIN)
        self.victim = who("victim")  # a Default user none of the callers is
        expect(self.admin.put(f"/api/users/{self.victim}", {}), 200)
        oa_a, oa_b = who("oa-a"), who("oa-b")
        expect(self.admin.put(f"/api/users/{oa_a}", {"role": {"name": "Office Admin", "offices": [A]}}), 200)
        expect(self.admin.put(f"/api/users/{oa_b}", {"role": {"name": "Office Admin", "offices": [B]}}), 200)
        self.callers: dict[str, Api | None] = {
            ANON: None, DEFAULT: Api(stack, who("default")), OA_A: Api(stack, oa_a), OA_B: Api(stack, oa_b),
            SYS: self.admin,
        }
        self.victim_bookings = {
            office: expect(self.admin.book(user=self.victim, office=office, date_=day(2)), 201).json()
            for office in (A, B)
        }
        self._days = iter(range(1, 14))
        # closed days take waitlist entries (SPEC §12, §15): day 9 in A and C, day 10 in C
        for office, d in ((A, 9), (C, 9), (C, 10)):
            expect(self.admin.put(f"/api/offices/{office}/days/{day(d)}", {"closed": True}), 200)

    def email(self, role: str) -> str:
        caller = self.callers[role]
        return caller.email if caller else self.victim

    def fresh_booking(self, office: str, user: str | None = None) -> dict:
        """A new booking (made by the System Admin), so each cell cancels its own."""
        return expect(self.admin.book(user=user or who("booked"), office=office, date_=day(3)), 201).json()

    def fresh_office(self) -> str:
        office_id = f"m-{uuid.uuid4().hex[:10]}"
        expect(self.admin.post("/api/offices", {"id": office_id, "name": "Matrix", "quota": 5}), 201)
        return office_id

    def fresh_user(self) -> str:
        email = who("fresh")
        expect(self.admin.put(f"/api/users/{email}", {}), 200)
        return email

    def own_booking(self, role: str) -> dict:
        """A booking of the caller (the victim's for anonymous) in C, on a day no other row uses."""
        return expect(self.admin.book(user=self.email(role), office=C, date_=day(5)), 201).json()

    def today_booking(self, office: str, user: str | None = None) -> dict:
        """A new booking for today (made by the System Admin): only today's may be released."""
        return expect(self.admin.book(user=user or who("today"), office=office, date_=day(0)), 201).json()

    def waitlist_entry(self, office: str, user: str, d: int) -> dict:
        """A waitlist entry on a closed day (made by the System Admin on the user's behalf)."""
        return expect(self.admin.post("/api/waitlist", {"user": user, "office": office, "date": day(d)}), 201).json()

    def pattern(self, office: str, user: str) -> dict:
        """A recurring pattern (made by the System Admin on the user's behalf) that books nothing."""
        return expect(self.admin.post("/api/recurring", {"user": user, **quiet_pattern(office)}), 201).json()

    def pass_code(self, booking: dict) -> str:
        return expect(self.admin.get(f"/api/bookings/{booking['id']}/pass"), 200).json()["code"]

    def fresh_session(self, role: str) -> str | None:
        caller = self.callers[role]
        return self.stack.login(caller.email)["token"] if caller else None


def quiet_pattern(office: str) -> dict:
    """A recurring pattern's fields that book nothing (so other rows' bookings are not disturbed):
    tomorrow's weekday, until today."""
    return {"office": office, "weekdays": [date.fromisoformat(day(1)).isoweekday()], "until": day(0)}


@dataclass
class Req:
    path: str
    json: object = None
    params: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    token: str | None = None  # another session of the caller (e.g. to sign it out)
    stream: bool = False  # an endpoint that streams: read the status, then hang up


@dataclass
class Row:
    method: str
    rule: str  # the route as in the gateway's URL map
    case: str
    expected: dict  # role -> status
    request: Callable[[World, str], Req]

    @property
    def id(self) -> str:
        return f"{self.method} {self.rule} [{self.case}]"


def row(method: str, rule: str, case: str, anonymous: int, default: int, office_admin_a: int, office_admin_b: int,
        system_admin: int, request: Callable[[World, str], Req]) -> Row:
    expected = dict(zip(ROLES, (anonymous, default, office_admin_a, office_admin_b, system_admin), strict=True))
    return Row(method, rule, case, expected, request)


# Written by hand from SPEC §1 (roles and permissions) and §9 (who may call what).
#   method  route                               case                              anon  Def  OA-A  OA-B  SysAdm
ROWS = [
    # ---- public
    row("GET", "/api/config", "public", 200, 200, 200, 200, 200, lambda w, r: Req("/api/config")),
    row("GET", "/api/openapi.json", "public", 200, 200, 200, 200, 200, lambda w, r: Req("/api/openapi.json")),
    row("GET", "/api/auth/methods", "public", 200, 200, 200, 200, 200, lambda w, r: Req("/api/auth/methods")),
    row("POST", "/api/auth/code", "anyone asks a code", 202, 202, 202, 202, 202,
        lambda w, r: Req("/api/auth/code", {"email": who("code")})),
    row("POST", "/api/auth/verify", "wrong code", 401, 401, 401, 401, 401,
        lambda w, r: Req("/api/auth/verify", {"email": who("verify"), "code": "000000"})),
    # SPEC §16: the matrix's stack signs in with email codes only, so the provider's routes do not exist
    row("GET", "/api/auth/oidc/start", "oidc not configured", 404, 404, 404, 404, 404,
        lambda w, r: Req("/api/auth/oidc/start", params={"next": "/"})),
    row("GET", "/api/auth/oidc/callback", "oidc not configured", 404, 404, 404, 404, 404,
        lambda w, r: Req("/api/auth/oidc/callback", params={"code": "x", "state": "y"})),
    row("POST", "/api/selftest", "with the key", 200, 200, 200, 200, 200,
        lambda w, r: Req("/api/selftest", headers={"X-Selftest-Key": SELFTEST_KEY})),
    row("POST", "/api/selftest", "without the key", 403, 403, 403, 403, 403, lambda w, r: Req("/api/selftest")),
    # ---- signed in
    row("POST", "/api/auth/logout", "own session", 401, 204, 204, 204, 204,
        lambda w, r: Req("/api/auth/logout", token=w.fresh_session(r))),
    row("GET", "/api/me", "self", 401, 200, 200, 200, 200, lambda w, r: Req("/api/me")),
    row("GET", "/api/offices", "active offices", 401, 200, 200, 200, 200, lambda w, r: Req("/api/offices")),
    row("GET", "/api/offices/<office_id>", "office A", 401, 200, 200, 200, 200, lambda w, r: Req(f"/api/offices/{A}")),
    # ---- users
    row("GET", "/api/users", "list", 401, 403, 200, 200, 200, lambda w, r: Req("/api/users")),
    row("GET", "/api/users/<email>", "self", 401, 200, 200, 200, 200, lambda w, r: Req(f"/api/users/{w.email(r)}")),
    row("GET", "/api/users/<email>", "someone else", 401, 403, 200, 200, 200,
        lambda w, r: Req(f"/api/users/{w.victim}")),
    row("PUT", "/api/users/<email>", "someone else", 401, 403, 403, 403, 200,
        lambda w, r: Req(f"/api/users/{w.victim}", {"auto_approved": False})),
    row("PUT", "/api/users/<email>", "self", 401, 403, 403, 403, 200,
        lambda w, r: Req(f"/api/users/{w.email(r)}", {"quota": 50})),
    row("DELETE", "/api/users/<email>", "erase someone", 401, 403, 403, 403, 204,
        lambda w, r: Req(f"/api/users/{w.fresh_user()}")),
    # ---- offices
    row("POST", "/api/offices", "create", 401, 403, 403, 403, 201,
        lambda w, r: Req("/api/offices", {"id": f"n-{uuid.uuid4().hex[:10]}", "name": "New", "quota": 1})),
    row("PUT", "/api/offices/<office_id>", "edit office C", 401, 403, 403, 403, 200,
        lambda w, r: Req(f"/api/offices/{C}", {"name": "Office C"})),
    row("PUT", "/api/offices/<office_id>", "edit own office A", 401, 403, 403, 403, 200,
        lambda w, r: Req(f"/api/offices/{A}", {"name": "Office A"})),
    row("DELETE", "/api/offices/<office_id>", "retire", 401, 403, 403, 403, 204,
        lambda w, r: Req(f"/api/offices/{w.fresh_office()}")),
    # ---- day overrides (SPEC §15): admins of that office (days past the bookable window: no booking is touched)
    row("GET", "/api/offices/<office_id>/days/<day>", "a day of A", 401, 403, 200, 403, 200,
        lambda w, r: Req(f"/api/offices/{A}/days/{day(20)}")),
    row("PUT", "/api/offices/<office_id>/days/<day>", "a day of A", 401, 403, 200, 403, 200,
        lambda w, r: Req(f"/api/offices/{A}/days/{day(20)}", {"note": "Permission matrix"})),
    row("PUT", "/api/offices/<office_id>/days/<day>", "a day of B", 401, 403, 403, 200, 200,
        lambda w, r: Req(f"/api/offices/{B}/days/{day(21)}", {"quota": 400})),
    row("DELETE", "/api/offices/<office_id>/days/<day>", "a day of A", 401, 403, 200, 403, 200,
        lambda w, r: Req(f"/api/offices/{A}/days/{day(20)}")),
    # ---- bookings
    row("GET", "/api/bookings", "no filter", 401, 200, 200, 200, 200, lambda w, r: Req("/api/bookings")),
    row("GET", "/api/bookings", "office A", 401, 200, 200, 403, 200,  # Default: their own, in A
        lambda w, r: Req("/api/bookings", params={"office": A})),
    row("GET", "/api/bookings", "someone else's", 401, 403, 200, 200, 200,  # Office Admins: filtered
        lambda w, r: Req("/api/bookings", params={"user": w.victim})),
    row("POST", "/api/bookings", "for oneself in A", 401, 201, 201, 201, 201,
        lambda w, r: Req("/api/bookings", {"user": w.email(r), "office": A, "date": day(next(w._days))})),
    row("POST", "/api/bookings", "for someone in A", 401, 403, 201, 403, 201,
        lambda w, r: Req("/api/bookings", {"user": who("for"), "office": A, "date": day(4)})),
    row("POST", "/api/bookings", "for someone in B", 401, 403, 403, 201, 201,
        lambda w, r: Req("/api/bookings", {"user": who("for"), "office": B, "date": day(4)})),
    row("DELETE", "/api/bookings/<booking_id>", "someone's in A", 401, 403, 204, 403, 204,
        lambda w, r: Req(f"/api/bookings/{w.fresh_booking(A)['id']}")),
    row("DELETE", "/api/bookings/<booking_id>", "someone's in B", 401, 403, 403, 204, 204,
        lambda w, r: Req(f"/api/bookings/{w.fresh_booking(B)['id']}")),
    row("DELETE", "/api/bookings/<booking_id>", "own, in C", 401, 204, 204, 204, 204,
        lambda w, r: Req(f"/api/bookings/{w.fresh_booking(C, user=w.email(r))['id']}")),
    # ---- stats and audit
    row("GET", "/api/stats", "managed offices", 401, 403, 200, 200, 200, lambda w, r: Req("/api/stats")),
    row("GET", "/api/stats", "csv", 401, 403, 200, 200, 200, lambda w, r: Req("/api/stats", params={"format": "csv"})),
    row("GET", "/api/audit", "managed offices", 401, 403, 200, 200, 200, lambda w, r: Req("/api/audit")),
    row("GET", "/api/audit", "office A", 401, 403, 200, 403, 200, lambda w, r: Req("/api/audit", params={"office": A})),
    # ---- passes, door checks and live events
    row("GET", "/api/bookings/<booking_id>/pass", "someone's in A", 401, 403, 200, 403, 200,
        lambda w, r: Req(f"/api/bookings/{w.victim_bookings[A]['id']}/pass")),
    row("GET", "/api/bookings/<booking_id>/pass", "own, in C", 401, 200, 200, 200, 200,
        lambda w, r: Req(f"/api/bookings/{w.own_booking(r)['id']}/pass")),
    row("POST", "/api/passes/verify", "at office A", 401, 403, 200, 403, 200,
        lambda w, r: Req("/api/passes/verify", {"code": w.pass_code(w.victim_bookings[A]), "office": A})),
    row("POST", "/api/passes/verify", "at office B", 401, 403, 403, 200, 200,
        lambda w, r: Req("/api/passes/verify", {"code": w.pass_code(w.victim_bookings[B]), "office": B})),
    row("GET", "/api/events", "stream", 401, 200, 200, 200, 200, lambda w, r: Req("/api/events", stream=True)),
    # ---- check-in and release (SPEC §11)
    row("GET", "/api/offices/<office_id>/door-code", "office A", 401, 403, 200, 403, 200,
        lambda w, r: Req(f"/api/offices/{A}/door-code")),
    row("GET", "/api/offices/<office_id>/door-code", "office B", 401, 403, 403, 200, 200,
        lambda w, r: Req(f"/api/offices/{B}/door-code")),
    row("POST", "/api/checkins", "a made-up door code", 401, 400, 400, 400, 400,
        lambda w, r: Req("/api/checkins", {"code": "not-a-door-code"})),
    row("POST", "/api/bookings/<booking_id>/release", "someone's today in A", 401, 403, 200, 403, 200,
        lambda w, r: Req(f"/api/bookings/{w.today_booking(A)['id']}/release")),
    row("POST", "/api/bookings/<booking_id>/release", "own today in C", 401, 200, 200, 200, 200,
        lambda w, r: Req(f"/api/bookings/{w.today_booking(C, user=w.email(r))['id']}/release")),
    # ---- waitlist (SPEC §12)
    row("POST", "/api/waitlist", "own, a closed day in C", 401, 201, 201, 201, 201,
        lambda w, r: Req("/api/waitlist", {"user": w.email(r), "office": C, "date": day(9)})),
    row("POST", "/api/waitlist", "someone's, a closed day in A", 401, 403, 201, 403, 201,
        lambda w, r: Req("/api/waitlist", {"user": who("queued"), "office": A, "date": day(9)})),
    row("GET", "/api/waitlist", "own", 401, 200, 200, 200, 200, lambda w, r: Req("/api/waitlist")),
    row("GET", "/api/waitlist", "office A's (Default: own)", 401, 200, 200, 403, 200,
        lambda w, r: Req("/api/waitlist", params={"office": A})),
    row("DELETE", "/api/waitlist/<entry_id>", "someone's in A", 401, 403, 204, 403, 204,
        lambda w, r: Req(f"/api/waitlist/{w.waitlist_entry(A, who('queued'), 9)['id']}")),
    row("DELETE", "/api/waitlist/<entry_id>", "own in C", 401, 204, 204, 204, 204,
        lambda w, r: Req(f"/api/waitlist/{w.waitlist_entry(C, w.email(r) if r != ANON else who('q'), 10)['id']}")),
    # ---- regular days and calendars (SPEC §14)
    row("POST", "/api/recurring", "own in C", 401, 201, 201, 201, 201,
        lambda w, r: Req("/api/recurring", quiet_pattern(C))),
    row("POST", "/api/recurring", "someone's in A", 401, 403, 201, 403, 201,
        lambda w, r: Req("/api/recurring", {**quiet_pattern(A), "user": who("reg")})),
    row("GET", "/api/recurring", "own", 401, 200, 200, 200, 200, lambda w, r: Req("/api/recurring")),
    row("GET", "/api/recurring", "the victim's", 401, 403, 200, 200, 200,
        lambda w, r: Req("/api/recurring", params={"user": w.victim})),
    row("DELETE", "/api/recurring/<pattern_id>", "someone's in A", 401, 403, 204, 403, 204,
        lambda w, r: Req(f"/api/recurring/{w.pattern(A, who('reg'))['id']}")),
    row("DELETE", "/api/recurring/<pattern_id>", "own in C", 401, 204, 204, 204, 204,
        lambda w, r: Req(f"/api/recurring/{w.pattern(C, w.email(r) if r != ANON else who('reg'))['id']}")),
    row("POST", "/api/bookings/cancel-range", "own, a range with nothing", 401, 200, 200, 200, 200,
        lambda w, r: Req("/api/bookings/cancel-range", {"from": day(13), "to": day(13)})),
    row("POST", "/api/me/calendar", "own feed", 401, 201, 201, 201, 201, lambda w, r: Req("/api/me/calendar")),
    row("DELETE", "/api/me/calendar", "own feed", 401, 204, 204, 204, 204, lambda w, r: Req("/api/me/calendar")),
    row("GET", "/api/calendar/<feed>", "a made-up feed", 404, 404, 404, 404, 404,
        lambda w, r: Req("/api/calendar/made-up-token-of-a-feed-nobody-has.ics")),
    row("GET", "/api/release-links", "a made-up link", 400, 400, 400, 400, 400,
        lambda w, r: Req("/api/release-links", params={"token": "made-up"})),
    row("POST", "/api/release-links", "a made-up link", 400, 400, 400, 400, 400,
        lambda w, r: Req("/api/release-links", {"token": "made-up"})),
]

# Not an endpoint: the JSON 404 for unknown paths under /api.
NOT_ENDPOINTS = {"/api/<path:rest>"}


@pytest.fixture(scope="module")
def mstack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("matrix"), CONFIG,
                       extra_env={"SELFTEST_KEY": SELFTEST_KEY}) as s:
        yield s


@pytest.fixture(scope="module")
def world(mstack) -> World:
    return World(mstack)


def call(world: World, role: str, r: Row) -> requests.Response:
    req = r.request(world, role)
    caller = world.callers[role]
    headers = dict(req.headers)
    token = req.token or (caller.token if caller else None)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = requests.request(r.method, world.stack.url(req.path), json=req.json, params=req.params,
                                headers=headers, timeout=30, stream=req.stream)
    if req.stream and response.status_code < 400:
        response.close()
    return response


@pytest.fixture(scope="module")
def results(world) -> dict[str, dict[str, requests.Response]]:
    """Every cell of the matrix, called once: row id -> role -> response."""
    return {r.id: {role: call(world, role, r) for role in ROLES} for r in ROWS}


@pytest.mark.parametrize("r", ROWS, ids=[r.id for r in ROWS])
def test_permission_matrix(results, r: Row):
    wrong = {}
    for role, response in results[r.id].items():
        if response.status_code != r.expected[role]:
            wrong[role] = f"{response.status_code} (expected {r.expected[role]}): {response.text[:200]}"
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"message", "reference", "code"}, (role, body)
    assert not wrong, f"{r.id}: " + "; ".join(f"{role}: {why}" for role, why in wrong.items())


def test_rows_cover_exactly_the_api_url_map(mstack):
    from gateway.app import create_app

    app = create_app(load_config(mstack.config_path), Env.from_environ(mstack.env), listen=False)
    try:
        routes = {(method, rule.rule) for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api") and rule.rule not in NOT_ENDPOINTS
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    finally:
        app.extensions["ob"].rpc.close()
    rows = {(r.method, r.rule) for r in ROWS}
    assert not routes - rows, f"endpoints without a row in the permission matrix: {sorted(routes - rows)}"
    assert not rows - routes, f"rows for endpoints the gateway does not have: {sorted(rows - routes)}"
    documented = {(m.upper(), p) for p, ops in requests.get(mstack.url("/api/openapi.json"), timeout=10).json()[
        "paths"].items() for m in ops}
    as_openapi = {(m, rule.replace("<", "{").replace(">", "}")) for m, rule in rows}
    assert documented == as_openapi


# ------------------------------------------------------------------------------ no leaks


def test_error_messages_never_echo_other_users_data(world, results):
    secrets = [world.victim, *(b["id"] for b in world.victim_bookings.values())]
    errors = [(row_id, role, response.text) for row_id, cells in results.items() for role, response in cells.items()
              if response.status_code >= 400]
    assert errors
    for row_id, role, text in errors:
        for secret in secrets:
            assert secret not in text, (row_id, role, text)
    someone_else = world.callers[DEFAULT]
    for booking in world.victim_bookings.values():
        body = expect(someone_else.delete(f"/api/bookings/{booking['id']}"), 403, "Forbidden").json()
        assert world.victim not in json.dumps(body)
    expect(someone_else.get(f"/api/users/{world.victim}"), 403, "Forbidden")
    expect(someone_else.get("/api/bookings", user=world.victim), 403, "Forbidden")


def test_an_office_admin_of_b_sees_nothing_of_office_a(world):
    oa_b, oa_a = world.callers[OA_B], world.callers[OA_A]
    assert expect(world.admin.get("/api/bookings", office=A), 200).json()  # office A has bookings
    for params in ({}, {"user": world.victim}, {"include_cancelled": "true"}, {"date": day(2)}):
        listed = expect(oa_b.get("/api/bookings", **params), 200).json()
        assert listed and {b["office"]["id"] for b in listed} == {B}, params
    victims = expect(oa_b.get("/api/bookings", user=world.victim), 200).json()
    assert [b["id"] for b in victims] == [world.victim_bookings[B]["id"]]
    # counts: stats name only the managed office (JSON and CSV)
    stats = expect(oa_b.get("/api/stats"), 200).json()["office_dates"]
    assert {r["office"] for r in stats} == {B}
    csv_text = expect(oa_b.get("/api/stats", format="csv"), 200).text
    assert {line.split(",")[0] for line in csv_text.splitlines()[1:]} == {B}
    assert A not in csv_text.replace("office,date", "")
    assert {r["office"] for r in expect(oa_a.get("/api/stats"), 200).json()["office_dates"]} == {A}
    # audit: only records of the managed office (no user changes, no sign-ins, nothing of A)
    records = expect(oa_b.get("/api/audit", limit=200), 200).json()["records"]
    assert records and {r["office"] for r in records} == {B}
    assert not [r for r in records if world.victim_bookings[A]["id"] in json.dumps(r)]
    everything = expect(world.admin.get("/api/audit", limit=200), 200).json()["records"]
    assert {r["office"] for r in everything} > {B}  # the System Admin sees more (A, user changes, ...)


def test_a_default_user_sees_only_their_own(world):
    default = world.callers[DEFAULT]
    listed = expect(default.get("/api/bookings", include_cancelled="true"), 200).json()
    assert listed and {b["user"] for b in listed} == {default.email}
    assert {b["user"] for b in expect(default.get("/api/bookings", office=A), 200).json()} <= {default.email}
    expect(default.get("/api/offices", include_retired="true"), 200)  # the flag is ignored, not an error
    retired = world.fresh_office()
    expect(world.admin.delete(f"/api/offices/{retired}"), 204)

    def listed(api) -> dict:  # the gateway's office read model follows the events (milliseconds)
        return {o["id"]: o for o in expect(api.get("/api/offices", include_retired="true"), 200).json()}

    assert wait_until(lambda: listed(world.admin).get(retired, {}).get("retired") is True, timeout=5)
    assert retired not in listed(default)
