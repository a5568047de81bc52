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


# ------------------------------------------------------------------------------ admin: users

import pytest  # noqa: E402

from services.identity.schemas import UserUpdate  # noqa: E402

OFFICES = {"alpha", "beta", "old"}


def update(current: dict, body: dict, email: str = "u@my-company.example") -> dict:
    changes = UserUpdate.model_validate(body, strict=True)
    return rules.apply_update(CFG, email, current, changes, set(changes.model_fields_set), OFFICES)


def test_absent_fields_stay_and_null_quota_restores_the_default():
    start = rules.profile(5, "Office Admin", ["beta"], True)
    assert update(start, {}) == start
    assert update(start, {"quota": 0}) == {**start, "quota": 0}
    assert update(start, {"quota": None}) == {**start, "quota": None}
    assert update(start, {"auto_approved": False}) == {**start, "auto_approved": False}


def test_office_admin_needs_existing_offices_sorted_and_unique():
    after = update(rules.DEFAULT_PROFILE, {"role": {"name": "Office Admin", "offices": ["beta", "alpha", "beta"]}})
    assert after["role"] == "Office Admin" and after["offices"] == ["alpha", "beta"]
    with pytest.raises(rules.UpdateRejected, match="at least one office"):
        update(rules.DEFAULT_PROFILE, {"role": {"name": "Office Admin", "offices": []}})
    with pytest.raises(rules.UpdateRejected, match="Unknown office: gamma"):
        update(rules.DEFAULT_PROFILE, {"role": {"name": "Office Admin", "offices": ["alpha", "gamma"]}})
    back = update(after, {"role": {"name": "Default", "offices": ["alpha"]}})
    assert back["role"] == "Default" and back["offices"] == []


def test_system_admin_can_be_neither_granted_nor_changed():
    with pytest.raises(rules.UpdateRejected, match="cannot be granted"):
        update(rules.DEFAULT_PROFILE, {"role": {"name": "System Admin", "offices": []}})
    with pytest.raises(rules.UpdateRejected, match="comes from the configuration"):
        update(rules.DEFAULT_PROFILE, {"role": {"name": "Default", "offices": []}}, email="boss@my-company.example")
    # restating it is no change; quotas and auto-approval apply to System Admins too
    same = update(rules.DEFAULT_PROFILE, {"role": {"name": "System Admin", "offices": []}, "quota": 4},
                  email="boss@my-company.example")
    assert same == {**rules.DEFAULT_PROFILE, "quota": 4}


def test_profile_of_an_office_admin_without_offices_is_default():
    assert rules.profile(None, "Office Admin", [], False) == rules.DEFAULT_PROFILE


def test_user_cursor_round_trip_and_garbage():
    cursor = rules.encode_user_cursor("a-b@my-company.example")
    assert "@" not in cursor and rules.decode_user_cursor(cursor) == "a-b@my-company.example"
    for bad in ("", "x", "!!!", 42, None, "dTJ8eA", "x" * 500):
        with pytest.raises(ValueError):
            rules.decode_user_cursor(bad)


def test_flags_and_limits():
    assert [rules.parse_flag(v) for v in (None, "", "true", "FALSE", True)] == [None, None, True, False, True]
    with pytest.raises(ValueError):
        rules.parse_flag("yes")
    assert [rules.clamp_limit(v) for v in (None, "", 0, "7", 10**9)] == [50, 50, 1, 7, 200]


# ------------------------------------------------------------------------------ guessing bound

from datetime import UTC, datetime, timedelta  # noqa: E402

from pydantic import ValidationError  # noqa: E402

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def test_under_the_limit_there_is_no_wait():
    assert rules.retry_after(0, None, 20, DAY, T0) is None
    assert rules.retry_after(19, T0 - timedelta(hours=1), 20, DAY, T0) is None


def test_at_the_limit_the_wait_lasts_until_the_oldest_failure_leaves_the_window():
    assert rules.retry_after(20, T0 - timedelta(hours=1), 20, DAY, T0) == 23 * 3600
    assert rules.retry_after(25, T0 - timedelta(hours=23, minutes=59, seconds=59, microseconds=500000),
                             20, DAY, T0) == 1  # never 0: a client waiting 0 s would retry at once
    assert rules.retry_after(5, T0 - DAY, 5, DAY, T0) == 1


def test_default_limits_keep_guessing_within_a_day_below_one_in_ten_thousand():
    cfg = AppConfig()
    bound = rules.guess_bound(cfg.verify_failures_per_email, timedelta(hours=cfg.verify_failure_window_hours))
    assert bound == 20 / 10**6 <= 1e-4
    # every accepted configuration keeps the bound: at most 100 per address, a window of at least a day
    worst = AppConfig(verify_failures_per_email=100, verify_failure_window_hours=24)
    assert rules.guess_bound(worst.verify_failures_per_email, DAY) == 1e-4
    assert rules.guess_bound(10, timedelta(hours=12)) == 20 / 10**6  # a shorter window would double it


@pytest.mark.parametrize("field, value", [
    ("verify_failures_per_email", 101), ("verify_failures_per_email", 0),
    ("verify_failure_window_hours", 23), ("verify_failures_per_client", 0),
])
def test_limits_that_would_break_the_bound_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        AppConfig(**{field: value})
