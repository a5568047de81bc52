"""Payload schemas of the offices service."""
from typing import Optional

from pydantic import BaseModel


class Office(BaseModel):
    """SPEC §9 Office."""

    id: str
    name: str
    quota: int
    parking_quota: int
    timezone: str
    retired: bool
