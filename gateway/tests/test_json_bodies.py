"""The gateway's JSON body parser: anything that is not one well-formed JSON document is a 400
"Bad request body", checked without a broker on an endpoint that parses before any RPC."""
import pytest

from gateway.api import MAX_JSON_DEPTH
from gateway.app import create_app
from obcommon.config import AppConfig, Env


@pytest.fixture(scope="module")
def client():
    env = Env.from_environ({"SECRET_KEY": "k" * 32})
    return create_app(AppConfig(), env, listen=False).test_client()


@pytest.mark.parametrize("body", [
    b"[" * 30_000 + b"]" * 30_000,
    b'{"email": ' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"}",
    b'{"email": "a@my-company.example", "email": "b@my-company.example"}',
    b'{"email": "\xff\xfe@my-company.example"}',
    b'{"email": "\\udc00@my-company.example"}',
    b'{"email": NaN}',
    b'{"email": "a@my-company.example"',
    b"",
    b"[]",
], ids=["deep", "deep-in-a-field", "duplicate-keys", "invalid-utf8", "lone-surrogate", "nan", "truncated", "empty",
        "array"])
def test_bad_json_is_400_bad_request_body(client, body):
    r = client.post("/api/auth/code", data=body, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["message"] == "Bad request body"


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    # parses fine (and then fails as an invalid address, not as a bad body)
    r = client.post("/api/auth/code", json={"email": "[{" * 40 + "\\\"@my-company.example"})
    assert r.status_code == 400 and r.get_json()["message"] == "Invalid email address"
