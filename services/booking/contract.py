"""The booking service's contract: RPC methods, events, errors."""
from obcommon.messaging import Contract, EventPayload, EventSpec, RpcMethod

from .exceptions import InvalidRange

SERVICE = "booking"

BOOKING_CREATED = EventSpec(SERVICE, "booking_created", EventPayload, "a booking was made")
BOOKING_CANCELLED = EventSpec(SERVICE, "booking_cancelled", EventPayload, "a booking was cancelled")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("get_slots", "(office_id, dates: [YYYY-MM-DD]) -> [Slot]", "bookings and parking used per day"),
    ],
    events=[BOOKING_CREATED, BOOKING_CANCELLED],
    errors=[InvalidRange],
)
