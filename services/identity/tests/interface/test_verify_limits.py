"""Wrong sign-in codes are counted per address and per client address across codes, in identity's
database, and lock out at the limit, also under concurrent verifies on two identity replicas
(docs/security.md "Sign-in code guessing bound")."""
import uuid

import psycopg
import pytest

from services.identity.exceptions import InvalidCode, RateLimited
from tests.support.fixtures import running_stack

PER_EMAIL, PER_CLIENT = 3, 5
LIMITS = {"verify_failures_per_email": PER_EMAIL, "verify_failures_per_client": PER_CLIENT}


@pytest.fixture(scope="module")
def two_replicas(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("verify-limits"), config=LIMITS) as s:
        s.launch("identity", key="identity2")  # both consume rpc-identity: calls are spread over them
        s.wait_ready()
        yield s


def email() -> str:
    return f"guess-{uuid.uuid4().hex[:8]}@my-company.example"


def client() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def outcomes(replies) -> list[str]:
    seen = []
    for reply in replies:
        try:
            reply.result()
            seen.append("signed in")
        except InvalidCode:
            seen.append("wrong")
        except RateLimited:
            seen.append("limited")
    return seen


def failures(stack, key: str) -> int:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM identity.verify_failures WHERE key = %s", (key,)).fetchone()
    assert row is not None
    return row[0]


def test_concurrent_wrong_codes_from_one_client_stop_at_its_limit_across_replicas(two_replicas):
    stack, attacker = two_replicas, client()
    addresses = [email() for _ in range(12)]
    with stack.rpc() as rpc:
        codes = {}
        for address in addresses:
            rpc.identity.request_code(address, client())
            codes[address] = stack.smtp.code_for(address)
        replies = [rpc.identity.verify_code.call_async(a, wrong(codes[a]), attacker) for a in addresses]
        seen = outcomes(replies)
    assert seen.count("wrong") == PER_CLIENT and seen.count("limited") == len(addresses) - PER_CLIENT, seen
    assert failures(stack, f"client:{attacker}") == PER_CLIENT


def test_concurrent_wrong_codes_for_one_address_stop_at_its_limit(two_replicas):
    stack, address = two_replicas, email()
    with stack.rpc() as rpc:
        rpc.identity.request_code(address, client())
        code = stack.smtp.code_for(address)
        seen = outcomes([rpc.identity.verify_code.call_async(address, wrong(code), client()) for _ in range(8)])
        assert seen.count("wrong") == PER_EMAIL and seen.count("limited") == 8 - PER_EMAIL, seen
        with pytest.raises(RateLimited):  # the right code too, once the address is locked
            rpc.identity.verify_code(address, code, client())
    assert failures(stack, f"email:{address}") == PER_EMAIL


def test_failures_count_across_codes_and_a_sign_in_does_not_reset_them(two_replicas):
    stack, address = two_replicas, email()
    with stack.rpc() as rpc:
        rpc.identity.request_code(address, client())
        first = stack.smtp.code_for(address)
        for _ in range(PER_EMAIL - 1):
            with pytest.raises(InvalidCode):
                rpc.identity.verify_code(address, wrong(first), client())
        assert rpc.identity.verify_code(address, first, client())["user"]["email"] == address
        rpc.identity.request_code(address, client())  # a new code: its own 5 tries, the same daily count
        second = stack.smtp.code_for(address, count=2)
        with pytest.raises(InvalidCode):
            rpc.identity.verify_code(address, wrong(second), client())
        with pytest.raises(RateLimited):
            rpc.identity.verify_code(address, second, client())
    assert failures(stack, f"email:{address}") == PER_EMAIL


def test_a_gateway_without_the_client_address_is_still_limited_per_address(two_replicas):
    """An older gateway (rolling upgrade) calls verify_code(email, code)."""
    stack, address = two_replicas, email()
    with stack.rpc() as rpc:
        rpc.identity.request_code(address, client())
        code = stack.smtp.code_for(address)
        for _ in range(PER_EMAIL):
            with pytest.raises(InvalidCode):
                rpc.identity.verify_code(address, wrong(code))
        with pytest.raises(RateLimited):
            rpc.identity.verify_code(address, code)
