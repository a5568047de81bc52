"""Request and response models of the HTTP API (SPEC §9). They validate requests and generate
the OpenAPI document."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from services.booking.schemas import Slot
from services.identity.schemas import User
from services.offices.schemas import Office


class ErrorBody(BaseModel):
    message: str
    reference: str


class ConfigResponse(BaseModel):
    version: str
    email_regex: str
    advance_booking_days: int
    reason_to_book_required: bool
    show_test_banner: bool


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str = Field(max_length=320)


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str = Field(max_length=320)
    code: str = Field(max_length=20)


class VerifyResponse(BaseModel):
    token: str
    user: User


class OfficeListQuery(BaseModel):
    include_retired: Optional[Literal["true", "false"]] = None


class OfficeWithSlots(Office):
    slots: list[Slot]


class Health(BaseModel):
    status: str
    checks: Optional[dict[str, str]] = None


__all__ = ["User", "Office", "Slot"]
