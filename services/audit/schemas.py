"""Schemas of the audit service's RPC results."""
from typing import Any, Optional

from pydantic import BaseModel


class AuditRecord(BaseModel):
    """SPEC §9 audit record: who (`actor`), what (`action` on `entity`), when (`at`, UTC `Z`),
    before and after."""

    id: str
    at: str
    actor: Optional[str]
    action: str
    entity: str
    entity_id: str
    office: Optional[str]
    before: Optional[dict[str, Any]]
    after: Optional[dict[str, Any]]


class AuditPage(BaseModel):
    records: list[AuditRecord]
    next_cursor: Optional[str]  # null at the end
