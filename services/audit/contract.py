"""The audit service's contract: RPC methods, events, errors. Import this, not service.py."""
from obcommon.messaging import Contract, RpcMethod

from .exceptions import InvalidCursor, InvalidFilter

SERVICE = "audit"

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod(
            "list_records",
            "(actor=None, offices=None, office=None, date_from=None, date_to=None, limit=50, cursor=None)"
            " -> {records: [AuditRecord], next_cursor}",
            "newest first; `offices` limits to the offices the caller may see (None: all); dates are"
            " inclusive UTC days",
        ),
        RpcMethod("pseudonymise_actor", "(email, pseudonym) -> {records: int}",
                  "replace an erased user's email in actor, entity_id, before and after"),
        RpcMethod("purge_older_than", "(days) -> {records: int}", "delete records older than `days` days"),
    ],
    events=[],
    errors=[InvalidCursor, InvalidFilter],
)
