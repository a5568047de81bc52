"""Payload schemas of the offices service."""
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from obcommon.config import OFFICE_ID_PATTERN, _check_timezone, check_deadline


class Office(BaseModel):
    """SPEC §9 Office."""

    id: str
    name: str
    quota: int
    parking_quota: int
    timezone: str
    retired: bool
    check_in_deadline: str | None = None  # SPEC §11: office-local "HH:MM"; null: no automatic release
    allocation: Literal["first_come", "ballot"] = "first_come"  # SPEC §13
    ballot_draw_days_before: int = 7  # ballot: the draw is this many days before the date …
    ballot_draw_time: str = "12:00"  # … at this office-local "HH:MM"


Allocation = Literal["first_come", "ballot"]


def _draw_time(value: str | None) -> str | None:
    if value is None:
        return None
    if check_deadline(value) is None:
        raise ValueError('must be a local time "HH:MM" (00:00-23:59)')
    return value


def _timezone(value: str | None) -> str | None:
    return value if value is None else _check_timezone(value)


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


class OfficeCreate(BaseModel):
    """POST /api/offices. `timezone` defaults to the configured `default_timezone`."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64, pattern=OFFICE_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    quota: int = Field(ge=0, le=100000)
    parking_quota: int = Field(0, ge=0, le=100000)
    timezone: str | None = Field(None, max_length=64)
    retired: bool = False
    check_in_deadline: str | None = Field(None, max_length=5, description='"HH:MM" office time, or null;'
                                             ' absent: default_check_in_deadline')
    allocation: Allocation = "first_come"
    ballot_draw_days_before: int = Field(7, ge=1, le=365)
    ballot_draw_time: str = Field("12:00", max_length=5, description='"HH:MM" office time')

    _tz = field_validator("timezone")(_timezone)
    _name = field_validator("name")(_name)
    _deadline = field_validator("check_in_deadline")(check_deadline)
    _draw = field_validator("ballot_draw_time")(_draw_time)


class OfficeUpdate(BaseModel):
    """PUT /api/offices/{id}: any of these; absent fields stay unchanged (none may be null)."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=200)
    quota: int | None = Field(None, ge=0, le=100000)
    parking_quota: int | None = Field(None, ge=0, le=100000)
    timezone: str | None = Field(None, max_length=64)
    retired: bool | None = None
    check_in_deadline: str | None = Field(None, max_length=5, description='"HH:MM" office time; null removes it')
    allocation: Allocation | None = None
    ballot_draw_days_before: int | None = Field(None, ge=1, le=365)
    ballot_draw_time: str | None = Field(None, max_length=5, description='"HH:MM" office time')

    _tz = field_validator("timezone")(_timezone)
    _name = field_validator("name")(_name)
    _deadline = field_validator("check_in_deadline")(check_deadline)
    _draw = field_validator("ballot_draw_time")(_draw_time)
