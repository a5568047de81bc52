"""schemathesis over /api/openapi.json against a running stack: for every documented
operation, generated requests (valid per the document, then invalid ones) never get a 5xx, and
every response conforms to the document: its status is listed for the operation, its content type
and body match what is documented for that status.

Authenticated as a System Admin (bearer token), the widest rights, so the deep paths run; every
operation is also called anonymously. Bounded: a few dozen examples per operation, no shrinking
beyond Hypothesis' default, no example database, so it stays well under two minutes.
"""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.generation import GenerationMode

from .support.admin import ADMIN
from .support.fixtures import running_stack

SELFTEST_KEY = "selftest-key-for-the-openapi-fuzzing"
POSITIVE_EXAMPLES, NEGATIVE_EXAMPLES, ANONYMOUS_EXAMPLES = 25, 10, 5
# Calls that would end the fuzzer's own session: only made anonymously.
SESSION_ENDING = {("POST", "/api/auth/logout")}


def explicitly_documented(ctx, response, case):
    """The status is one the operation lists itself (not only the catch-all `default`)."""
    documented = case.operation.definition.raw.get("responses", {})
    if str(response.status_code) not in documented:
        raise AssertionError(f"{case.operation.label} answered {response.status_code}, which its `responses` do not "
                             f"list (documented: {sorted(k for k in documented if k != 'default')})")


CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, explicitly_documented]


def streams(operation) -> bool:
    """A server-sent event stream never ends: signed in, it cannot be fuzzed request by request
    (anonymously it answers 401 at once)."""
    responses = operation.definition.raw.get("responses", {})
    return any("text/event-stream" in (r.get("content") or {}) for r in responses.values())


@pytest.fixture(scope="module")
def fstack(database_server, amqp_server, tmp_path_factory):
    config = {"default_weekly_quota": 5, "advance_booking_days": 14}
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("fuzz"), config,
                       extra_env={"SELFTEST_KEY": SELFTEST_KEY}) as s:
        yield s


def run(operation, mode: GenerationMode, examples: int, base_url: str, headers: dict) -> None:
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=30)

    fuzz()


def test_every_operation_conforms_to_the_openapi_document(fstack):
    token = fstack.login(ADMIN)["token"]  # before fuzzing POST /api/auth/code may hit the rate limit
    schema = schemathesis.openapi.from_url(fstack.url("/api/openapi.json"))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    base_url = fstack.gateway_url
    unconstrained: list = []
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        extra = {"X-Selftest-Key": SELFTEST_KEY} if operation.path == "/api/selftest" else {}
        run(operation, GenerationMode.POSITIVE, ANONYMOUS_EXAMPLES, base_url, dict(extra))
        if key in SESSION_ENDING or streams(operation):
            continue
        admin = {"Authorization": f"Bearer {token}", **extra}
        run(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, base_url, admin)
        raw = operation.definition.raw
        if raw.get("parameters") or raw.get("requestBody"):  # something that can be invalid
            try:
                run(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, base_url, admin)
            except Unsatisfiable:  # every value of its parameters is valid (e.g. any string): no negative case
                unconstrained.append(key)
    assert len(unconstrained) < len(operations) / 2, unconstrained
    # the fuzzer's session survived (nothing it called ended it)
    assert requests.get(fstack.url("/api/me"), headers={"Authorization": f"Bearer {token}"}, timeout=10).ok
