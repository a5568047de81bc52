"""Identity's RPCs against the running service, broker and database."""
import uuid

import pytest

from services.identity.exceptions import InvalidCode, UserNotFound
from services.identity.rules import session_id_for


def email() -> str:
    return f"rpc-{uuid.uuid4().hex[:8]}@my-company.example"


def test_request_verify_get_session_logout(stack):
    address = email()
    with stack.rpc() as rpc:
        assert rpc.identity.request_code(address.upper(), "198.51.100.1") == {"sent": True}
        code = stack.smtp.code_for(address)
        result = rpc.identity.verify_code(address, code)
        assert result["session_id"] == session_id_for(result["token"])
        assert result["user"]["email"] == address
        session = rpc.identity.get_session(result["session_id"])
        assert session["email"] == address and session["user"]["role"]["name"] == "Default"
        assert rpc.identity.logout(result["session_id"]) is None
        assert rpc.identity.get_session(result["session_id"]) is None
        assert rpc.identity.logout(result["session_id"]) is None  # idempotent


def test_disallowed_address_is_not_sent_a_code(stack):
    with stack.rpc() as rpc:
        assert rpc.identity.request_code("x@elsewhere.example", "198.51.100.2") == {"sent": False}


def test_verify_errors_are_typed(stack):
    with stack.rpc() as rpc:
        with pytest.raises(InvalidCode):
            rpc.identity.verify_code(email(), "123456")


def test_get_user(stack):
    address = email()
    with stack.rpc() as rpc:
        user = rpc.identity.get_user(f" {address.upper()}")
        assert user["email"] == address and user["custom_quota"] is False
        with pytest.raises(UserNotFound):
            rpc.identity.get_user("someone@elsewhere.example")
        admin = rpc.identity.get_user("admin@my-company.example")
        assert admin["role"] == {"name": "System Admin", "offices": ["alpha", "beta"]}
