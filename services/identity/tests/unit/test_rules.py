"""Identity rules: codes, hashing, roles and permissions."""
import re

from obcommon.config import AppConfig
from services.identity import rules

CFG = AppConfig(system_admin_emails=["boss@my-company.example"], default_weekly_quota=2)


def test_codes_are_six_digits_and_vary():
    codes = {rules.new_code() for _ in range(200)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    assert len(codes) > 150


def test_code_hash_is_keyed_and_bound_to_the_email():
    key = b"k" * 32
    stored = rules.hash_code(key, "a@x.example", "123456")
    assert "123456" not in stored
    assert rules.code_matches(key, "a@x.example", "123456", stored)
    assert not rules.code_matches(key, "b@x.example", "123456", stored)
    assert not rules.code_matches(b"other" * 8, "a@x.example", "123456", stored)
    assert not rules.code_matches(key, "a@x.example", "123457", stored)


def test_session_ids_are_hashes_of_tokens():
    token = rules.new_token()
    assert len(token) >= 40
    assert rules.session_id_for(token) != token and len(rules.session_id_for(token)) == 64


def test_system_admin_only_from_config():
    view = rules.user_view(CFG, "boss@my-company.example", None, "Default", [], False, ["a", "b"])
    assert view["role"] == {"name": "System Admin", "offices": ["a", "b"]}
    assert view["permissions"]["can_edit_users"] and view["permissions"]["can_manage_all_bookings"]
    # a stored "System Admin" role is never honoured
    view = rules.user_view(CFG, "x@my-company.example", None, "System Admin", ["a"], False, ["a", "b"])
    assert view["role"]["name"] == "Default"


def test_office_admin_needs_offices():
    view = rules.user_view(CFG, "x@my-company.example", None, "Office Admin", ["b", "a"], False)
    assert view["role"] == {"name": "Office Admin", "offices": ["a", "b"]}
    perms = view["permissions"]
    assert perms["can_view_admin"] and perms["can_view_users"] and not perms["can_edit_users"]
    assert perms["offices_can_manage"] == ["a", "b"] and not perms["can_manage_all_bookings"]
    assert rules.user_view(CFG, "x@my-company.example", None, "Office Admin", [], False)["role"]["name"] == "Default"


def test_quota_default_and_override():
    default = rules.user_view(CFG, "x@my-company.example", None, None, [], False)
    assert (default["quota"], default["custom_quota"]) == (2, False)
    zero = rules.user_view(CFG, "x@my-company.example", 0, None, [], True)
    assert (zero["quota"], zero["custom_quota"], zero["auto_approved"]) == (0, True, True)
    assert not any(zero["permissions"][k] for k in ("can_view_admin", "can_view_users", "can_edit_users"))
