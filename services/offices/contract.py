"""The offices service's contract: RPC methods, events, errors."""
from obcommon.messaging import Contract, EventPayload, EventSpec, RpcMethod

from .exceptions import OfficeNotFound

SERVICE = "offices"

OFFICE_CREATED = EventSpec(SERVICE, "office_created", EventPayload, "an office was created or seeded")
OFFICE_UPDATED = EventSpec(SERVICE, "office_updated", EventPayload, "name, quotas, time zone or retired changed")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("list_offices", "(include_retired=False) -> [Office]", "offices in configured/created order"),
        RpcMethod("get_office", "(office_id) -> Office", "one office, retired ones included"),
    ],
    events=[OFFICE_CREATED, OFFICE_UPDATED],
    errors=[OfficeNotFound],
)
