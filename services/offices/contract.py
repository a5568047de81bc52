"""The offices service's contract: RPC methods, events, errors."""
from obcommon.messaging import Contract, EventPayload, EventSpec, RpcMethod

from .exceptions import InvalidOffice, OfficeExists, OfficeNotFound

SERVICE = "offices"

OFFICE_CREATED = EventSpec(SERVICE, "office_created", EventPayload, "an office was created or seeded")
OFFICE_UPDATED = EventSpec(SERVICE, "office_updated", EventPayload, "name, quotas, time zone or retired changed")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("list_offices", "(include_retired=False) -> [Office]", "offices in configured/created order"),
        RpcMethod("get_office", "(office_id) -> Office", "one office, retired ones included"),
        RpcMethod("create_office", "(fields: {id, name, quota, parking_quota?, timezone?, retired?}, actor) -> Office",
                  "a new office, listed after the existing ones; emits office_created"),
        RpcMethod("update_office", "(office_id, changes: {name?, quota?, parking_quota?, timezone?, retired?}, actor)"
                  " -> Office", "edit, retire or un-retire; emits office_updated when something changed"),
    ],
    events=[OFFICE_CREATED, OFFICE_UPDATED],
    errors=[OfficeNotFound, OfficeExists, InvalidOffice],
)
