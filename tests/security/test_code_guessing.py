"""Sign-in codes cannot be brute-forced across reissues: wrong codes are
counted per address and per client address, across codes, for a day; at the limit the gateway
answers 429 "Too many requests" with Retry-After, for a fresh code too."""
import uuid

import pytest
import requests

from tests.support.fixtures import running_stack

PER_EMAIL, PER_CLIENT = 4, 6


@pytest.fixture(scope="module")
def stack(database_server, amqp_server, tmp_path_factory):
    # One proxy in front, so X-Forwarded-For names the client, as behind the Ingress controller.
    config = {"trusted_proxies": 1, "verify_failures_per_email": PER_EMAIL, "verify_failures_per_client": PER_CLIENT}
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("guessing"), config=config) as s:
        yield s


def email() -> str:
    return f"guess-{uuid.uuid4().hex[:8]}@my-company.example"


def client() -> str:
    return f"203.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def post(stack, path, body, client_address):
    return requests.post(stack.url(path), json=body, headers={"X-Forwarded-For": client_address}, timeout=10)


def new_code(stack, address) -> str:
    count = len(stack.smtp.to(address)) + 1
    assert post(stack, "/api/auth/code", {"email": address}, client()).status_code == 202
    return stack.smtp.code_for(address, count=count)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def assert_too_many(r, at_most_seconds: int = 24 * 3600):
    assert r.status_code == 429, r.text
    assert r.json()["message"] == "Too many requests" and r.json()["reference"]
    assert 0 < int(r.headers["Retry-After"]) <= at_most_seconds


def test_wrong_codes_across_reissues_lock_the_address_even_for_a_fresh_code(stack):
    address = email()
    tries = 0
    while tries < PER_EMAIL:  # each new code would have reset the old per-code count of 5
        code = new_code(stack, address)
        for _ in range(min(2, PER_EMAIL - tries)):
            r = post(stack, "/api/auth/verify", {"email": address, "code": wrong(code)}, client())
            assert r.status_code == 401 and r.json()["message"] == "Incorrect code"
            tries += 1
    fresh = new_code(stack, address)
    assert_too_many(post(stack, "/api/auth/verify", {"email": address, "code": fresh}, client()))
    assert int(post(stack, "/api/auth/verify", {"email": address, "code": fresh}, client())
               .headers["Retry-After"]) > 23 * 3600  # locked until the first failure is a day old


def test_a_sign_in_does_not_reset_the_daily_count(stack):
    address = email()
    code = new_code(stack, address)
    for _ in range(PER_EMAIL - 1):
        assert post(stack, "/api/auth/verify", {"email": address, "code": wrong(code)}, client()).status_code == 401
    assert post(stack, "/api/auth/verify", {"email": address, "code": code}, client()).status_code == 200
    code = new_code(stack, address)
    assert post(stack, "/api/auth/verify", {"email": address, "code": wrong(code)}, client()).status_code == 401
    assert_too_many(post(stack, "/api/auth/verify", {"email": address, "code": code}, client()))


def test_one_client_guessing_many_addresses_is_limited(stack):
    attacker = client()
    addresses = [email() for _ in range(PER_CLIENT + 1)]
    codes = {a: new_code(stack, a) for a in addresses}
    for address in addresses[:PER_CLIENT]:
        r = post(stack, "/api/auth/verify", {"email": address, "code": wrong(codes[address])}, attacker)
        assert r.status_code == 401
    last = addresses[-1]
    assert_too_many(post(stack, "/api/auth/verify", {"email": last, "code": codes[last]}, attacker))
    # the same address and its code from another client still work: the lock is the attacker's
    assert post(stack, "/api/auth/verify", {"email": last, "code": codes[last]}, client()).status_code == 200
