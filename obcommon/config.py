"""Configuration: the YAML file of SPEC §7, `OB_*` overrides, and the process environment.

`load_config()` returns a validated `AppConfig` or raises `ConfigError` whose message names every
bad field (and, for overrides, the environment variable it came from). `Env` holds the deployment
settings that are not part of the YAML (broker, database, SMTP, secrets).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .emails import is_valid_email, normalize_email

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO_ROOT / "config" / "example.yaml"
OFFICE_ID_PATTERN = r"^[a-z0-9-]+$"

# Constructs that Python's `re` accepts but JavaScript's RegExp rejects or reads differently.
# The web app runs `email_regex` in the browser, so the config must use the shared subset.
_PYTHON_ONLY_REGEX = [
    (r"\(\?P[<=>]", "named groups (?P<...>) are Python-only; use (?<name>...)"),
    (r"\(\?[aiLmsux-]+\)", "global inline flags like (?i) are not supported by JavaScript"),
    (r"\(\?[aiLmsux-]+:", "scoped inline flags like (?i:...) are not supported everywhere"),
    (r"\(\?#", "comments (?#...) are Python-only"),
    (r"\(\?>", "atomic groups (?>...) are Python-only"),
    (r"\(\?\(", "conditional groups are Python-only"),
    (r"\\[AZz]", r"\A, \Z and \z are Python-only; use ^ and $"),
    (r"[*+?}][+]", "possessive quantifiers are Python-only"),
]


def regex_portability_error(pattern: str) -> str | None:
    """Return why `pattern` is not valid in both Python and JavaScript, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression ({exc})"
    unescaped = re.sub(r"\\\\", "", pattern)  # drop escaped backslashes before scanning
    for construct, why in _PYTHON_ONLY_REGEX:
        if re.search(construct, unescaped):
            return why
    return None


def _check_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/London)")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - defensive
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


_TZ_CACHE: set[str] = set()


def _timezones() -> set[str]:
    if not _TZ_CACHE:
        _TZ_CACHE.update(available_timezones())
    return _TZ_CACHE


def _check_email(value: str) -> str:
    value = normalize_email(value)
    if not is_valid_email(value):
        raise ValueError(f"{value!r} is not a valid email address")
    return value


_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def check_deadline(value: str | None) -> str | None:
    """A check-in deadline (SPEC §11): office-local "HH:MM" (00:00-23:59), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not _HHMM.fullmatch(value):
        raise ValueError('must be a local time "HH:MM" (00:00-23:59) or null')
    return value


class OfficeSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=OFFICE_ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quota: int = Field(ge=0, le=100000)
    parking_quota: int = Field(0, ge=0, le=100000)
    timezone: str | None = None
    retired: bool = False
    check_in_deadline: str | None = None  # None: default_check_in_deadline

    _tz = field_validator("timezone")(lambda v: v if v is None else _check_timezone(v))
    _deadline = field_validator("check_in_deadline")(check_deadline)


LoginMethod = Literal["otac", "oidc"]


class OidcConfig(BaseModel):
    """SPEC §16: the company's OpenID provider (the client secret is env OIDC_CLIENT_SECRET)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(min_length=1, max_length=500)
    client_id: str = Field(min_length=1, max_length=500)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    email_claim: str = "email"
    groups_claim: str = "groups"
    # IdP group -> office ids whose Office Admin its members are; null: roles are not taken from groups
    group_offices: dict[str, list[str]] | None = None
    # the name on the sign-in page's button ("Sign in with <provider name>")
    provider_name: str = "your company account"

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError("must be the provider's https URL")
        return value.rstrip("/")

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include openid")
        return value


class AppConfig(BaseModel):
    """Every key of the YAML file (SPEC §7). Unknown keys are errors, so typos are caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    advance_booking_days: int = Field(14, ge=1, le=366)
    default_weekly_quota: int = Field(1, ge=0, le=100)
    data_retention_days: int = Field(30, ge=1, le=3650)
    email_regex: str = r"^(.*)@(my-company\.example)$"
    system_admin_emails: list[str] = Field(default_factory=list)
    reason_to_book_required: bool = False
    notification_to_address: str | None = None
    from_address: str = "office-booker@my-company.example"
    default_timezone: str = "Europe/London"
    # SPEC §11: an office's check-in deadline when none is given for it; null: no automatic release
    default_check_in_deadline: str | None = None
    # Where users open the web app (e.g. https://booker.my-company.example): absolute links in mails
    # (the release link, SPEC §11). null: mails give the path only.
    web_url: str | None = None
    show_test_banner: bool = False
    selftest_user: str = "selftest@my-company.example"
    code_ttl_minutes: int = Field(10, ge=1, le=1440)
    session_hours: int = Field(12, ge=1, le=24 * 31)
    trusted_proxies: int = Field(0, ge=0, le=10)
    # Login-code request limits (SPEC §2): per email and per client address, in one window.
    code_requests_per_email: int = Field(5, ge=1, le=1000)
    code_requests_per_client: int = Field(300, ge=1, le=100000)
    code_request_window_minutes: int = Field(15, ge=1, le=1440)
    # Failed code verifies (wrong codes), counted across codes per address and per client address
    # in a sliding window of at least a day. At most 100 per address keeps the chance of guessing
    # any code of one address within a day at or below 100 / 10^6 = 1e-4 (docs/security.md).
    verify_failures_per_email: int = Field(20, ge=1, le=100)
    verify_failures_per_client: int = Field(1000, ge=1, le=100000)
    verify_failure_window_hours: int = Field(24, ge=24, le=24 * 31)
    offices: list[OfficeSeed] = Field(default_factory=list)
    read_only: bool = False
    # SPEC §16: how people sign in: the email one-time code, the company's OpenID provider, or both
    login_methods: list[LoginMethod] = Field(default_factory=lambda: list[LoginMethod](["otac"]), min_length=1)
    oidc: OidcConfig | None = None

    @field_validator("email_regex")
    @classmethod
    def _portable_regex(cls, value: str) -> str:
        problem = regex_portability_error(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("system_admin_emails")
    @classmethod
    def _admins(cls, value: list[str]) -> list[str]:
        return sorted({_check_email(v) for v in value})

    @field_validator("from_address", "selftest_user")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)

    @field_validator("notification_to_address")
    @classmethod
    def _optional_email(cls, value: str | None) -> str | None:
        return None if value is None else _check_email(value)

    @field_validator("default_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("default_check_in_deadline")
    @classmethod
    def _deadline(cls, value: str | None) -> str | None:
        return check_deadline(value)

    @model_validator(mode="after")
    def _cross_field(self) -> AppConfig:
        if self.reason_to_book_required and not self.notification_to_address:
            raise ValueError(
                "notification_to_address: required when reason_to_book_required is true"
            )
        if "oidc" in self.login_methods and self.oidc is None:
            raise ValueError("oidc: required when login_methods includes oidc")
        ids = [o.id for o in self.offices]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"offices: duplicate office id(s) {', '.join(duplicates)}")
        return self

    def email_allowed(self, email: str) -> bool:
        """True when `email` (already normalised) may sign in and be booked for."""
        return is_valid_email(email) and re.search(self.email_regex, email) is not None

    def is_system_admin(self, email: str) -> bool:
        return normalize_email(email) in self.system_admin_emails


class ConfigError(Exception):
    """Configuration is missing or invalid; the message names each bad field."""


SCALAR_KEYS = [
    name
    for name, field in AppConfig.model_fields.items()
    if name not in ("offices", "system_admin_emails", "login_methods", "oidc")
]


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for key in SCALAR_KEYS:
        var = "OB_" + key.upper()
        if var in environ:
            raw = environ[var]
            overrides[key] = None if raw.strip().lower() in ("", "null", "none") else raw
    return overrides


def load_config(path: str | os.PathLike | None = None, environ: dict | None = None) -> AppConfig:
    environ = dict(os.environ if environ is None else environ)
    path = Path(path or environ.get("OFFICE_BOOKER_CONFIG") or EXAMPLE_CONFIG)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"Configuration file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"Configuration file {path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"Configuration file {path} must be a mapping of keys to values")
    overrides = _env_overrides(environ)
    data = {**raw, **overrides}
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "config"
            message = err["msg"].removeprefix("Value error, ")
            source = f" (from OB_{where.upper()})" if where in overrides else ""
            lines.append(f"  - {where}{source}: {message}")
        raise ConfigError(f"Invalid configuration in {path}:\n" + "\n".join(lines)) from None


def default_gateway_processes() -> int:
    """Two serving processes per gateway replica where the process may run on two CPUs or more
    (an eventlet loop uses one core at most; a third paid nothing on two cores, issue 16), else one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return 2 if cpus >= 2 else 1


@dataclass(frozen=True)
class Env:
    """Deployment settings from the environment (SPEC §7, second table)."""

    amqp_uri: str
    database_url: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_starttls: bool
    smtp_connections: int  # SMTP_CONNECTIONS: notify's mails in flight at once (one connection each)
    dev_mailbox: str | None
    dev_mailbox_http: str | None
    gateway_port: int
    gateway_processes: int  # GATEWAY_PROCESSES: serving processes per gateway replica (gateway/workers.py)
    secret_key: str | None
    selftest_key: str | None
    mode: str = "production"
    hsts_max_age: int = 31536000
    oidc_client_secret: str | None = field(default=None, repr=False)  # SPEC §16
    scim_token: str | None = field(default=None, repr=False)  # SPEC §16: unset, /scim/v2 answers 404

    @property
    def local_development(self) -> bool:
        """SPEC §17: development mode only when asked for (`OB_MODE=development`, which the local
        runner sets and nothing else does); production otherwise: Secure cookies, HSTS, no
        development hint, sign-in codes never logged, notify refuses to start without SMTP."""
        return self.mode == "development"

    def derive_key(self, purpose: str) -> bytes:
        """A separate key per purpose (sessions, CSRF, codes, passes), derived from SECRET_KEY."""
        if not self.secret_key:
            raise ConfigError("SECRET_KEY is not set")
        return hmac.new(self.secret_key.encode(), b"office-booker/" + purpose.encode(), hashlib.sha256).digest()

    @classmethod
    def from_environ(cls, environ: dict | None = None) -> Env:
        e = os.environ if environ is None else environ
        errors = []

        def integer(name: str, default: int) -> int:
            try:
                return int(e.get(name) or default)
            except ValueError:
                errors.append(f"  - {name}: must be an integer")
                return default

        secret = e.get("SECRET_KEY") or None
        if secret is not None and len(secret) < 16:
            errors.append("  - SECRET_KEY: must be at least 16 characters")
        mode = (e.get("OB_MODE") or "production").strip().lower()
        if mode not in ("production", "development"):
            errors.append("  - OB_MODE: must be 'production' or 'development'")
            mode = "production"
        scim = e.get("SCIM_TOKEN") or None
        if scim is not None and len(scim) < 32:
            errors.append("  - SCIM_TOKEN: must be at least 32 characters")
        processes = integer("GATEWAY_PROCESSES", default_gateway_processes())
        if not 1 <= processes <= 64:
            errors.append("  - GATEWAY_PROCESSES: must be between 1 and 64")
            processes = 1
        smtp_connections = integer("SMTP_CONNECTIONS", 3)
        if not 1 <= smtp_connections <= 20:
            errors.append("  - SMTP_CONNECTIONS: must be between 1 and 20")
            smtp_connections = 1
        selftest = e.get("SELFTEST_KEY") or None
        if selftest is not None and len(selftest) < 20:
            errors.append("  - SELFTEST_KEY: must be at least 20 characters")
        env = cls(
            amqp_uri=e.get("AMQP_URI") or "amqp://guest:guest@localhost:5672/",
            database_url=e.get("DATABASE_URL") or None,
            smtp_host=e.get("SMTP_HOST") or None,
            smtp_port=integer("SMTP_PORT", 587),
            smtp_username=e.get("SMTP_USERNAME") or None,
            smtp_password=e.get("SMTP_PASSWORD") or None,
            smtp_starttls=(e.get("SMTP_STARTTLS") or "true").strip().lower() in ("1", "true", "yes"),
            smtp_connections=smtp_connections,
            dev_mailbox=e.get("DEV_MAILBOX") or None,
            dev_mailbox_http=e.get("DEV_MAILBOX_HTTP") or None,
            gateway_port=integer("GATEWAY_PORT", 8080),
            gateway_processes=processes,
            secret_key=secret,
            selftest_key=selftest,
            mode=mode,
            hsts_max_age=integer("HSTS_MAX_AGE", 31536000),
            oidc_client_secret=e.get("OIDC_CLIENT_SECRET") or None,
            scim_token=scim,
        )
        if errors:
            raise ConfigError("Invalid environment:\n" + "\n".join(errors))
        return env
