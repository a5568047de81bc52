"""Hostile request bodies: every parse failure is 400 "Bad request body",
never a 5xx, and never an ERROR log line (ERROR means something broke that should have worked).

Every operation of the OpenAPI document that takes a JSON body gets each hostile body, signed in
as a System Admin (so the deep paths run) and anonymously.
"""
from __future__ import annotations

import json
import re

import pytest
import requests

from tests.support.admin import ADMIN

HOSTILE_BODIES = {
    "deeply nested arrays": b"[" * 30_000 + b"]" * 30_000,
    "deeply nested objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "nested under a valid key": b'{"email": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    "huge integer": b'{"email": "a@my-company.example", "quota": 1' + b"0" * 5_000 + b"}",
    "big integer": b'{"quota": 1' + b"0" * 400 + b', "parking_quota": 1e999999, "name": "x", "id": "big"}',
    "invalid UTF-8": b'{"email": "\xff\xfe\xc3\x28@my-company.example"}',
    "UTF-16": '{"email": "a@my-company.example"}'.encode("utf-16"),
    "duplicate keys": b'{"email": "a@my-company.example", "email": "b@my-company.example"}',
    "lone surrogate": b'{"email": "\\ud800@my-company.example"}',
    "1 MB string": b'{"email": "' + b"a" * 1_000_000 + b'"}',
    "NaN": b'{"quota": NaN, "parking_quota": Infinity}',
    "truncated": b'{"email": "a@my-company.example"',
    "not an object": b'"just a string"',
    "empty": b"",
}


def operations_with_bodies(stack) -> list[tuple[str, str]]:
    doc = requests.get(stack.url("/api/openapi.json"), timeout=10).json()
    found = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("requestBody"):
                # fill path parameters with plausible values
                concrete = re.sub(r"\{[^}]+\}", "alpha", path)
                found.append((method.upper(), concrete))
    assert len(found) >= 6, found
    return found


def error_lines(stack) -> list[str]:
    lines = []
    for proc in stack.processes.values():
        for line in proc.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{") and json.loads(line).get("level") == "ERROR":
                lines.append(f"{proc.name}: {line[:300]}")
    return lines


@pytest.mark.parametrize("signed_in", [True, False], ids=["admin", "anonymous"])
def test_hostile_bodies_get_a_4xx_and_no_error_log(stack, signed_in):
    token = stack.client(ADMIN).headers["Authorization"] if signed_in else None
    before = set(error_lines(stack))
    for method, path in operations_with_bodies(stack):
        for name, body in HOSTILE_BODIES.items():
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = token
            r = requests.request(method, stack.url(path), data=body, headers=headers, timeout=30)
            assert 400 <= r.status_code < 500, f"{method} {path} with {name}: {r.status_code} {r.text[:200]}"
            reply = r.json()
            assert set(reply) >= {"message", "reference"}, reply
            assert "Traceback" not in r.text
            if r.status_code == 400 and name != "huge integer":
                # a body that is not one well-formed JSON object is always this message
                if name in ("deeply nested arrays", "deeply nested objects", "nested under a valid key",
                            "invalid UTF-8", "UTF-16", "duplicate keys", "truncated", "empty", "not an object"):
                    assert reply["message"] == "Bad request body", (method, path, name, reply)
    new = [line for line in error_lines(stack) if line not in before]
    assert not new, "ERROR log lines for bad input:\n" + "\n".join(new)
