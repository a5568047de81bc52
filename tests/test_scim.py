"""SCIM 2.0 provisioning (SPEC §16) through the gateway against the real services: the SCIM
server checker `scim2-tester` (a real peer) finds no failure at /scim/v2; the bearer token is
required (and without SCIM_TOKEN there is no /scim at all); and what disabling, enabling and
deleting an account does for a user of the API: sessions dead on every replica within a second,
future bookings, requests, waitlist entries and regular days cancelled, sign-in refused with 403
"Account disabled", audit records; DELETE erases the user."""
from __future__ import annotations

import time
import uuid
from collections import Counter

import httpx2
import psycopg
import pytest
import requests
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

from .support.admin import ADMIN, Api, day, expect, wait_until, who
from .support.fixtures import running_stack

TOKEN = "scim-token-" + "x" * 40
CONFIG = {"default_weekly_quota": 7, "offices": [
    {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 10},
    {"id": "tiny", "name": "Tiny Office", "quota": 1, "parking_quota": 0},
]}
SCIM_JSON = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture(scope="module")
def sstack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("scim"), CONFIG,
                       extra_env={"SCIM_TOKEN": TOKEN}) as s:
        s.launch("gateway", key="gateway2")
        s.wait_ready()
        yield s


def scim(stack, method: str, path: str, body: dict | None = None, token: str | None = TOKEN,
         replica: str = "gateway") -> requests.Response:
    headers = {"Content-Type": SCIM_JSON} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, stack.url(f"/scim/v2{path}", replica), json=body, headers=headers, timeout=30)


def fresh_code(stack, email: str) -> str:
    """Ask for a sign-in code and read it from its mail (other mails may arrive meanwhile)."""
    import re

    def codes():
        return [m for m in stack.smtp.to(email) if str(m["Subject"]) == "Your Office Booker sign-in code"]
    before = len(codes())
    assert requests.post(stack.url("/api/auth/code"), json={"email": email}, timeout=10).status_code == 202
    mail = wait_until(lambda: len(codes()) > before and codes()[-1])
    return re.search(r"\b(\d{6})\b", stack.smtp.text(mail)).group(1)


def test_scim2_tester_finds_no_failure(sstack):
    """Every check of scim2-tester (discovery, create, read, list, filter, replace, PATCH add/remove/
    replace of every attribute, delete). userName must be an address allowed by email_regex (SPEC
    §16: it is the email), so the checker is given such addresses as that attribute's examples;
    every other value is its own."""
    client = SyncSCIMClient(httpx2.Client(base_url=sstack.url("/scim/v2"), headers={"Authorization": f"Bearer {TOKEN}"},
                                          timeout=60))
    client.discover()
    user_model = client.get_resource_model("User")
    user_model.model_fields["user_name"].examples = [f"scim-{uuid.uuid4().hex}@my-company.example"
                                                     for _ in range(5000)]
    results = check_server(client)
    statuses = Counter(r.status.name for r in results)
    failures = [f"{r.status.name} {r.title}: {r.reason}" for r in results if r.status.name not in ("SUCCESS", "SKIPPED")]
    assert statuses["SUCCESS"] >= 100 and not failures, "\n".join(failures)


def test_the_bearer_token_is_required(sstack, stack):
    assert scim(sstack, "GET", "/Users", token=None).status_code == 401
    wrong = scim(sstack, "GET", "/Users", token="x" * 52)
    assert wrong.status_code == 401 and wrong.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert scim(sstack, "GET", "/Users?count=1").status_code == 200
    # the shared stack has no SCIM_TOKEN: no SCIM at all
    assert scim(stack, "GET", "/Users").status_code == 404


def test_a_user_name_must_be_an_allowed_email_and_cannot_change(sstack):
    bad = scim(sstack, "POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "not-an-email"})
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidValue"
    outside = scim(sstack, "POST", "/Users", {"schemas": [USER_SCHEMA], "userName": "x@elsewhere.example"})
    assert outside.status_code == 400
    email = who("scim")
    response = scim(sstack, "POST", "/Users", {"schemas": [USER_SCHEMA], "userName": email.upper(),
                                               "externalId": "ext-1", "displayName": "Ada"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["userName"] == email and created["externalId"] == "ext-1"
    again = scim(sstack, "POST", "/Users", {"schemas": [USER_SCHEMA], "userName": email})
    assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"
    renamed = scim(sstack, "PUT", f"/Users/{created['id']}", {"schemas": [USER_SCHEMA], "userName": who("other")})
    assert renamed.status_code == 400 and renamed.json()["scimType"] == "mutability"
    found = scim(sstack, "GET", f'/Users?filter=userName eq "{email}"').json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == created["id"]


def test_disabling_ends_sessions_cancels_the_future_and_refuses_sign_in(sstack):
    admin = Api(sstack, ADMIN)
    email = who("leaver")
    account = scim(sstack, "POST", "/Users", {"schemas": [USER_SCHEMA], "userName": email, "active": True}).json()
    me = Api(sstack, email)
    other = Api(sstack, email)  # a second session, used on the other replica
    future = [expect(me.book(date_=day(n)), 201).json() for n in (0, 2, 3)]  # today's too: not over yet
    expect(Api(sstack, who("holder")).book(office="tiny", date_=day(4)), 201)
    entry = expect(me.post("/api/waitlist", {"user": email, "office": "tiny", "date": day(4)}), 201).json()
    pattern = expect(me.post("/api/recurring", {"office": "alpha", "weekdays": [1], "until": day(13)}), 201).json()
    assert me.me()["email"] == email and expect(other.on("gateway2").get("/api/me"), 200)

    disabled = scim(sstack, "PATCH", f"/Users/{account['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}]})
    assert disabled.status_code in (200, 204)  # RFC 7644 §3.5.2: either
    assert scim(sstack, "GET", f"/Users/{account['id']}").json()["active"] is False
    started = time.monotonic()
    for api in (me, other.on("gateway2")):  # every replica drops the sessions within a second
        assert wait_until(lambda a=api: a.get("/api/me").status_code == 401, timeout=1.0)
    assert time.monotonic() - started < 1.5

    def statuses():
        listed = expect(admin.get("/api/bookings", user=email, include_cancelled="true"), 200).json()
        return {b["id"]: b["status"] for b in listed}
    assert wait_until(lambda: all(statuses().get(b["id"]) == "cancelled" for b in future), timeout=10)
    queued = expect(admin.get("/api/waitlist", office="tiny", date=day(4)), 200).json()
    assert entry["id"] not in {e["id"] for e in queued}
    assert expect(admin.get("/api/recurring", user=email), 200).json() == [] and pattern["id"]

    # sign-in is refused: the code is right, the account is not
    code = fresh_code(sstack, email)
    refused = requests.post(sstack.url("/api/auth/verify"), json={"email": email, "code": code}, timeout=10)
    assert refused.status_code == 403 and refused.json()["message"] == "Account disabled"
    assert refused.json()["code"] == "account_disabled"

    with psycopg.connect(sstack.database_url) as conn:
        actions = [a for (a,) in conn.execute(
            "SELECT action FROM audit.records WHERE entity_id = %s OR (entity = 'booking' AND entity_id = ANY(%s))",
            (email, [b["id"] for b in future]))]
    assert "user_changed" in actions and actions.count("booking_cancelled") >= 2

    # enabled again: sign-in works
    enabled = scim(sstack, "PATCH", f"/Users/{account['id']}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": True}}]})
    assert enabled.status_code in (200, 204)
    assert scim(sstack, "GET", f"/Users/{account['id']}").json()["active"] is True
    assert Api(sstack, email).me()["email"] == email


def test_delete_erases_the_user(sstack):
    admin = Api(sstack, ADMIN)
    email = who("gone")
    account = scim(sstack, "POST", "/Users", {"schemas": [USER_SCHEMA], "userName": email}).json()
    me = Api(sstack, email)
    expect(me.book(date_=day(5)), 201)
    assert scim(sstack, "DELETE", f"/Users/{account['id']}").status_code == 204
    assert wait_until(lambda: me.get("/api/me").status_code == 401, timeout=2)
    assert wait_until(lambda: expect(admin.get("/api/bookings", user=email, include_cancelled="true"),
                                     200).json() == [], timeout=10)
    assert scim(sstack, "GET", f"/Users/{account['id']}").status_code == 404
