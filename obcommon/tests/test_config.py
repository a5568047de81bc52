"""Config validation (SPEC §7): every bad field is named, env overrides apply and are named."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from obcommon.config import EXAMPLE_CONFIG, AppConfig, ConfigError, Env, load_config, regex_portability_error

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, data) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_example_config_is_valid():
    cfg = load_config(EXAMPLE_CONFIG, environ={})
    assert [o.id for o in cfg.offices] == ["alpha", "beta"]
    assert cfg.system_admin_emails == ["admin@my-company.example"]


def test_defaults_match_the_spec(tmp_path):
    cfg = load_config(write(tmp_path, {}), environ={})
    assert (cfg.advance_booking_days, cfg.default_weekly_quota, cfg.data_retention_days) == (14, 1, 30)
    assert (cfg.code_ttl_minutes, cfg.session_hours, cfg.trusted_proxies) == (10, 12, 0)
    assert (cfg.code_requests_per_email, cfg.code_requests_per_client, cfg.code_request_window_minutes) == (5, 300, 15)
    assert cfg.default_timezone == "Europe/London" and cfg.read_only is False


def test_every_bad_field_is_named(tmp_path):
    path = write(tmp_path, {
        "advance_booking_days": "soon",
        "default_weekly_quota": -1,
        "default_timezone": "Mars/Olympus",
        "system_admin_emails": ["not an email"],
        "offices": [{"id": "Bad Id", "name": "X", "quota": 5}],
        "colour": "blue",
    })
    with pytest.raises(ConfigError) as exc:
        load_config(path, environ={})
    text = str(exc.value)
    for field in ("advance_booking_days", "default_weekly_quota", "default_timezone", "system_admin_emails",
                  "offices.0.id", "colour"):
        assert f"- {field}" in text, field
    assert "Mars/Olympus" in text


def test_reason_to_book_needs_a_notification_address(tmp_path):
    with pytest.raises(ConfigError, match="notification_to_address"):
        load_config(write(tmp_path, {"reason_to_book_required": True}), environ={})


def test_duplicate_office_ids_are_rejected(tmp_path):
    offices = [{"id": "a", "name": "A", "quota": 1}, {"id": "a", "name": "B", "quota": 1}]
    with pytest.raises(ConfigError, match="duplicate office id"):
        load_config(write(tmp_path, {"offices": offices}), environ={})


def test_env_overrides_scalars_and_names_their_source(tmp_path):
    path = write(tmp_path, {})
    cfg = load_config(path, environ={"OB_ADVANCE_BOOKING_DAYS": "7", "OB_READ_ONLY": "true",
                                     "OB_NOTIFICATION_TO_ADDRESS": "null"})
    assert cfg.advance_booking_days == 7 and cfg.read_only is True and cfg.notification_to_address is None
    with pytest.raises(ConfigError, match=r"advance_booking_days \(from OB_ADVANCE_BOOKING_DAYS\)"):
        load_config(path, environ={"OB_ADVANCE_BOOKING_DAYS": "0"})


def test_config_path_comes_from_the_environment(tmp_path):
    path = write(tmp_path, {"advance_booking_days": 3})
    assert load_config(environ={"OFFICE_BOOKER_CONFIG": str(path)}).advance_booking_days == 3
    with pytest.raises(ConfigError, match="not found"):
        load_config(environ={"OFFICE_BOOKER_CONFIG": str(tmp_path / "missing.yaml")})


def test_emails_are_normalised():
    cfg = AppConfig(system_admin_emails=["  Admin@My-Company.Example "])
    assert cfg.system_admin_emails == ["admin@my-company.example"]
    assert cfg.is_system_admin("ADMIN@my-company.example ")


@pytest.mark.parametrize("pattern, portable", [
    (r"^(.*)@(my-company\.example)$", True),
    (r"^[a-z0-9.]+@example\.(com|org)$", True),
    (r"(?i)^.*@example\.com$", False),
    (r"^(?P<user>.*)@example\.com$", False),
    (r"\A.*@example\.com\Z", False),
    (r"^a++@x$", False),
    (r"^(unclosed", False),
])
def test_email_regex_must_work_in_python_and_javascript(pattern, portable):
    assert (regex_portability_error(pattern) is None) is portable


def test_environment_settings_are_validated():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Env.from_environ({"SECRET_KEY": "short"})
    with pytest.raises(ConfigError, match="SELFTEST_KEY"):
        Env.from_environ({"SELFTEST_KEY": "too-short"})
    with pytest.raises(ConfigError, match="GATEWAY_PORT"):
        Env.from_environ({"GATEWAY_PORT": "eighty"})
    with pytest.raises(ConfigError, match="OB_MODE"):
        Env.from_environ({"OB_MODE": "staging"})
    env = Env.from_environ({"SECRET_KEY": "x" * 32})
    assert env.derive_key("csrf") != env.derive_key("login-codes")


@pytest.mark.parametrize("environ, development", [
    ({}, False),  # SPEC §17: production unless asked for
    ({"SMTP_HOST": ""}, False),  # no SMTP server no longer means development
    ({"OB_MODE": "production"}, False),
    ({"OB_MODE": "development"}, True),
    ({"OB_MODE": " Development "}, True),
])
def test_development_mode_only_when_asked_for(environ, development):
    assert Env.from_environ(environ).local_development is development


@pytest.mark.parametrize("command", [["-m", "obcommon.launch", "identity"], ["-m", "gateway"]])
def test_processes_refuse_to_start_with_a_bad_config(tmp_path, command):
    path = write(tmp_path, {"default_weekly_quota": 500})
    result = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "OFFICE_BOOKER_CONFIG": str(path),
                                 "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "SECRET_KEY": "x" * 32})
    assert result.returncode == 2
    assert "default_weekly_quota" in result.stderr
