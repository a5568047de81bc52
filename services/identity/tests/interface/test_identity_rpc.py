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


# ------------------------------------------------------------------------------ admin: users

from services.identity.exceptions import InvalidUserQuery, InvalidUserUpdate  # noqa: E402

ADMIN = "admin@my-company.example"


def test_update_list_and_erase(stack):
    address = email()
    with stack.rpc() as rpc:
        prepared = rpc.identity.update_user(address.upper(), {"quota": 4}, ADMIN)
        assert prepared["email"] == address and prepared["quota"] == 4 and prepared["custom_quota"]
        oa = rpc.identity.update_user(address, {"role": {"name": "Office Admin", "offices": ["beta"]}}, ADMIN)
        assert oa["role"] == {"name": "Office Admin", "offices": ["beta"]} and oa["quota"] == 4
        page = rpc.identity.list_users(email_prefix=address, role="Office Admin")
        assert [u["email"] for u in page["users"]] == [address] and page["next_cursor"] is None
        assert rpc.identity.erase_user(address, ADMIN)["pseudonym"].startswith("erased-")
        assert rpc.identity.list_users(email_prefix=address)["users"] == []
        assert rpc.identity.get_user(address)["custom_quota"] is False


def test_admin_errors_are_typed(stack):
    with stack.rpc() as rpc:
        with pytest.raises(InvalidUserQuery):
            rpc.identity.list_users(cursor="garbage")
        with pytest.raises(InvalidUserQuery):
            rpc.identity.list_users(role="Boss")
        with pytest.raises(InvalidUserUpdate):
            rpc.identity.update_user(email(), {"quota": 101}, ADMIN)
        with pytest.raises(InvalidUserUpdate):
            rpc.identity.update_user(email(), {"role": {"name": "Office Admin", "offices": ["nowhere"]}}, ADMIN)
        with pytest.raises(InvalidUserUpdate):
            rpc.identity.erase_user(ADMIN, ADMIN)
        with pytest.raises(UserNotFound):
            rpc.identity.update_user("x@elsewhere.example", {}, ADMIN)
        with pytest.raises(UserNotFound):
            rpc.identity.erase_user("x@elsewhere.example", ADMIN)
