"""Sign-in through the gateway against the real services, broker, database and SMTP peer (SPEC §2)."""
import time
import uuid

import psycopg
import pytest
import requests


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@my-company.example"


def post(stack, path, body=None, replica="gateway", **kw):
    return requests.post(stack.url(path, replica), json=body, timeout=10, **kw)


def test_full_login_flow_with_code_from_mail(stack):
    email = unique_email()
    r = post(stack, "/api/auth/code", {"email": f"  {email.upper()} "})
    assert r.status_code == 202
    mail = stack.smtp.wait_for(email)[0]
    assert mail["From"] == "office-booker@my-company.example"
    code = stack.smtp.code_for(email)

    r = post(stack, "/api/auth/verify", {"email": email, "code": code})
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["email"] == email
    assert body["user"]["role"] == {"name": "Default", "offices": []}
    assert body["user"]["quota"] == 3 and body["user"]["custom_quota"] is False
    cookies = {c.name: c for c in r.cookies}
    session_cookie = cookies["ob_session"]
    assert session_cookie.has_nonstandard_attr("HttpOnly")
    assert "samesite=lax" in r.headers["Set-Cookie"].lower()
    assert session_cookie.secure  # SMTP is configured, so this is not local development
    assert not cookies["ob_csrf"].has_nonstandard_attr("HttpOnly")

    me = requests.get(stack.url("/api/me"), headers={"Authorization": f"Bearer {body['token']}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == email

    offices = requests.get(stack.url("/api/offices"), headers={"Authorization": f"Bearer {body['token']}"}, timeout=10)
    # the seeded offices, in configured order (other tests may have created more after them)
    assert [o["id"] for o in offices.json()][:2] == ["alpha", "beta"]


def test_code_is_single_use(stack):
    email = unique_email()
    post(stack, "/api/auth/code", {"email": email})
    code = stack.smtp.code_for(email)
    assert post(stack, "/api/auth/verify", {"email": email, "code": code}).status_code == 200
    again = post(stack, "/api/auth/verify", {"email": email, "code": code})
    assert again.status_code == 401
    assert again.json()["message"] == "Code expired or already used: request a new code"
    assert again.json()["reference"]


def test_wrong_code_then_sixth_try_is_dead(stack):
    email = unique_email()
    post(stack, "/api/auth/code", {"email": email})
    code = stack.smtp.code_for(email)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for attempt in range(5):
        r = post(stack, "/api/auth/verify", {"email": email, "code": wrong})
        assert r.status_code == 401
        expected = "Too many wrong attempts: request a new code" if attempt == 4 else "Incorrect code"
        assert r.json()["message"] == expected
    # the 6th try fails even with the right code: the code is dead
    r = post(stack, "/api/auth/verify", {"email": email, "code": code})
    assert r.status_code == 401
    assert r.json()["message"] == "Too many wrong attempts: request a new code"
    # a new code works
    post(stack, "/api/auth/code", {"email": email})
    fresh = stack.smtp.code_for(email, count=2)
    assert post(stack, "/api/auth/verify", {"email": email, "code": fresh}).status_code == 200


def test_expired_code_is_refused(stack):
    email = unique_email()
    post(stack, "/api/auth/code", {"email": email})
    code = stack.smtp.code_for(email)
    # Let time pass for this code only: its expiry moves into the past.
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("UPDATE identity.login_codes SET expires_at = now() - interval '1 second' WHERE email = %s",
                     (email,))
    r = post(stack, "/api/auth/verify", {"email": email, "code": code})
    assert r.status_code == 401
    assert r.json()["message"] == "Code expired or already used: request a new code"


def test_code_is_stored_only_as_a_hash(stack):
    email = unique_email()
    post(stack, "/api/auth/code", {"email": email})
    code = stack.smtp.code_for(email)
    with psycopg.connect(stack.database_url) as conn:
        (stored,) = conn.execute("SELECT code_hash FROM identity.login_codes WHERE email = %s", (email,)).fetchone()
        outbox = conn.execute("SELECT count(*) FROM identity.outbox").fetchone()[0]
    assert code not in stored and len(stored) == 64
    assert outbox == 0  # published rows are deleted, the code is not left behind


def test_disallowed_address_gets_the_same_202_and_no_mail(stack):
    allowed, disallowed = unique_email(), f"someone-{uuid.uuid4().hex[:6]}@elsewhere.example"
    r1 = post(stack, "/api/auth/code", {"email": disallowed})
    r2 = post(stack, "/api/auth/code", {"email": allowed})
    assert r1.status_code == r2.status_code == 202
    assert r1.content == r2.content == b""
    stack.smtp.wait_for(allowed)  # the allowed one arrived, so the other would have too
    assert stack.smtp.to(disallowed) == []


@pytest.mark.parametrize("body, status, message", [
    ({"email": "not-an-email"}, 400, "Invalid email address"),
    ({"email": 42}, 400, "Bad request body"),
    ({}, 400, "Bad request body"),
    (["a@my-company.example"], 400, "Bad request body"),
])
def test_bad_code_requests_are_clean_400s(stack, body, status, message):
    r = post(stack, "/api/auth/code", body)
    assert r.status_code == status
    assert r.json()["message"] == message and r.json()["reference"]


def test_non_json_body_is_415_and_broken_json_400(stack):
    r = requests.post(stack.url("/api/auth/code"), data="email=a", timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.json()["reference"]
    r = requests.post(stack.url("/api/auth/code"), data="{", timeout=10, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["message"] == "Bad request body"


def test_rate_limit_per_email_answers_429_with_retry_after(stack):
    email = unique_email()
    for _ in range(5):
        assert post(stack, "/api/auth/code", {"email": email}).status_code == 202
    r = post(stack, "/api/auth/code", {"email": email})
    assert r.status_code == 429
    assert r.json()["message"] == "Too many requests"
    assert 1 <= int(r.headers["Retry-After"]) <= 15 * 60
    # other addresses are not affected
    assert post(stack, "/api/auth/code", {"email": unique_email()}).status_code == 202


def test_rate_limit_per_client_address(stack):
    from services.identity.exceptions import RateLimited

    client = f"203.0.113.{uuid.uuid4().int % 250}"
    with stack.rpc() as rpc:
        for i in range(300):
            rpc.identity.request_code(f"nat-{i}-{uuid.uuid4().hex[:4]}@elsewhere.example", client)
        with pytest.raises(RateLimited) as exc:
            rpc.identity.request_code(unique_email(), client)
    assert exc.value.retry_after > 0


def test_cookie_writes_need_the_csrf_header(stack):
    email = unique_email()
    s = requests.Session()
    post(stack, "/api/auth/code", {"email": email})
    r = s.post(stack.url("/api/auth/verify"), json={"email": email, "code": stack.smtp.code_for(email)}, timeout=10)
    assert r.status_code == 200
    # The cookie is Secure; this test talks plain HTTP on loopback, so send it by hand.
    cookies = {"ob_session": r.cookies["ob_session"]}
    csrf = r.cookies["ob_csrf"]
    assert requests.get(stack.url("/api/me"), cookies=cookies, timeout=10).status_code == 200
    denied = requests.post(stack.url("/api/auth/logout"), cookies=cookies, timeout=10)
    assert denied.status_code == 403
    wrong = requests.post(stack.url("/api/auth/logout"), cookies=cookies, headers={"X-CSRF-Token": "0" * 64}, timeout=10)
    assert wrong.status_code == 403
    ok = requests.post(stack.url("/api/auth/logout"), cookies=cookies, headers={"X-CSRF-Token": csrf}, timeout=10)
    assert ok.status_code == 204
    assert requests.get(stack.url("/api/me"), cookies=cookies, timeout=10).status_code == 401


def test_logout_on_one_replica_is_401_on_another_within_one_second(stack):
    second = stack.processes.get("gateway2") or stack.launch("gateway", key="gateway2")
    stack.wait_ready()
    token = stack.login(unique_email())["token"]
    auth = {"Authorization": f"Bearer {token}"}
    # both replicas know the session (the second caches it)
    for replica in ("gateway", "gateway2"):
        assert requests.get(stack.url("/api/me", replica), headers=auth, timeout=10).status_code == 200
    assert requests.post(stack.url("/api/auth/logout"), headers=auth, timeout=10).status_code == 204
    started = time.monotonic()
    while requests.get(stack.url("/api/me", "gateway2"), headers=auth, timeout=10).status_code != 401:
        assert time.monotonic() - started < 1.0, "session still valid on the other replica after 1 s"
        time.sleep(0.02)
    # and it stays dead on both
    for replica in ("gateway", "gateway2"):
        assert requests.get(stack.url("/api/me", replica), headers=auth, timeout=10).status_code == 401
    assert second.ready()


def test_second_request_needs_no_rpc_to_identity(stack):
    """The gateway's session read model answers repeat requests without asking identity."""
    token = stack.login(unique_email())["token"]
    auth = {"Authorization": f"Bearer {token}"}

    def identity_calls():
        text = requests.get(stack.processes["identity"].url + "/metrics", timeout=10).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("ob_service_calls_total{") and 'entrypoint="get_session"' in line)

    requests.get(stack.url("/api/me"), headers=auth, timeout=10)
    # The count is identity's, for every caller: an office event of an earlier test arriving late
    # empties the cache (System Admins' office lists), and open live streams re-check their
    # sessions. So up to three windows of 10 requests; one must need no call at all (a cache that
    # does not work needs 10 in every window).
    extra = []
    for _ in range(3):
        before = identity_calls()
        for _ in range(10):
            assert requests.get(stack.url("/api/me"), headers=auth, timeout=10).status_code == 200
        extra.append(identity_calls() - before)
        if extra[-1] == 0:
            break
    assert extra[-1] == 0, f"get_session calls per 10 repeat requests: {extra}"


def test_unknown_token_and_garbage_are_401(stack):
    for header in ("Bearer nope", "Bearer " + "x" * 500, "Basic abc"):
        r = requests.get(stack.url("/api/me"), headers={"Authorization": header}, timeout=10)
        assert r.status_code == 401 and r.json()["message"] == "Unauthorized"


def test_users_endpoint_for_self_and_not_for_others(stack):
    email = unique_email()
    client = stack.client(email)
    mine = client.get(stack.url(f"/api/users/{email.upper()}"), timeout=10)
    assert mine.status_code == 200 and mine.json()["email"] == email
    other = client.get(stack.url(f"/api/users/{unique_email()}"), timeout=10)
    assert other.status_code == 403 and other.json()["message"] == "Forbidden"


def test_system_admin_comes_from_config(stack):
    client = stack.client("admin@my-company.example")
    me = client.get(stack.url("/api/me"), timeout=10).json()
    assert me["role"]["name"] == "System Admin" and {"alpha", "beta"} <= set(me["role"]["offices"])
    assert me["permissions"]["can_manage_offices"] is True
    # admins can view users; a never-seen allowed address has defaults, a disallowed one is 404
    fresh = unique_email("fresh")
    r = client.get(stack.url(f"/api/users/{fresh}"), timeout=10)
    assert r.status_code == 200 and r.json()["role"]["name"] == "Default" and r.json()["quota"] == 3
    assert client.get(stack.url("/api/users/x@elsewhere.example"), timeout=10).status_code == 404


def test_sign_in_is_recorded_by_audit(stack):
    email = unique_email()
    stack.login(email)
    deadline = time.monotonic() + 10
    while True:
        with stack.rpc() as rpc:
            records = rpc.audit.list_records(actor=email)["records"]
        actions = {r["action"] for r in records}
        if "user_signed_in" in actions or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "user_signed_in" in actions
    signed_in = next(r for r in records if r["action"] == "user_signed_in")
    assert signed_in["actor"] == email and signed_in["entity"] == "user" and signed_in["entity_id"] == email
    assert signed_in["at"].endswith("Z")
    # the login code request is audited without the code
    issued = [r for r in records if r["action"] == "login_code_issued"]
    assert issued and all("code" not in (r["after"] or {}) for r in issued)


def test_client_address_behind_trusted_proxies_and_spoofing(database_server, amqp_server, tmp_path):
    """The per-client rate limit counts the real client: X-Forwarded-For is believed only when
    `trusted_proxies` says a proxy adds it, and then only the entries that proxy added."""
    import yaml

    from .support.fixtures import running_stack

    with running_stack(database_server, amqp_server, tmp_path, {"code_requests_per_client": 3}) as s:
        proxied_config = tmp_path / "proxied.yaml"
        proxied_config.write_text(yaml.safe_dump({**s.config, "trusted_proxies": 1}))
        s.launch("gateway", key="proxied", env={"OFFICE_BOOKER_CONFIG": str(proxied_config)})
        s.wait_ready()

        def ask(replica: str, forwarded_for: str) -> int:
            return post(s, "/api/auth/code", {"email": unique_email()}, replica,
                        headers={"X-Forwarded-For": forwarded_for}).status_code

        # no trusted proxy: a client cannot dodge the limit by making up X-Forwarded-For
        assert [ask("gateway", f"198.51.100.{i}") for i in range(4)] == [202, 202, 202, 429]
        # one trusted proxy: its last X-Forwarded-For entry is the client; what the client put
        # in front of it (a spoofed first entry) is ignored
        assert [ask("proxied", f"203.0.113.{i}, 192.0.2.10") for i in range(4)] == [202, 202, 202, 429]
        assert ask("proxied", "192.0.2.11") == 202  # another client behind the proxy has its own count
