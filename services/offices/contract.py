"""The offices service's contract: RPC methods, events, errors."""
from obcommon.messaging import Contract, EventPayload, EventSpec, RpcMethod

from .exceptions import InvalidOffice, OfficeExists, OfficeNotFound

SERVICE = "offices"



class OfficeEvent(EventPayload):
    """`after` (and `before`) hold the office (SPEC §9); `version` is its revision after the change
    (1 when created, +1 each change; 0 in events from before revisions): a read model keeps the
    copy with the highest, whatever order copies arrive in."""

    version: int = 0


OFFICE_CREATED = EventSpec(SERVICE, "office_created", OfficeEvent, "an office was created or seeded")
OFFICE_UPDATED = EventSpec(SERVICE, "office_updated", OfficeEvent, "name, quotas, time zone or retired changed")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("list_offices", "(include_retired=False, with_version=False) -> [Office]",
                  "offices in configured/created order (with_version: each with its `version`, for read models)"),
        RpcMethod("get_office", "(office_id, with_version=False) -> Office", "one office, retired ones included"),
        RpcMethod("create_office", "(fields: {id, name, quota, parking_quota?, timezone?, retired?}, actor,"
                  " with_version=False) -> Office",
                  "a new office, listed after the existing ones; emits office_created"),
        RpcMethod("update_office", "(office_id, changes: {name?, quota?, parking_quota?, timezone?, retired?}, actor,"
                  " with_version=False) -> Office", "edit, retire or un-retire; emits office_updated when something changed"),
    ],
    events=[OFFICE_CREATED, OFFICE_UPDATED],
    errors=[OfficeNotFound, OfficeExists, InvalidOffice],
)
