"""Schemas of the audit service's RPC results."""
from typing import Any

from pydantic import BaseModel


class AuditRecord(BaseModel):
    """SPEC §9 audit record: who (`actor`), what (`action` on `entity`), when (`at`, UTC `Z`),
    before and after."""

    id: str
    at: str
    actor: str | None
    action: str
    entity: str
    entity_id: str
    office: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    records: list[AuditRecord]
    next_cursor: str | None  # null at the end
