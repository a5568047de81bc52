"""The booking service's contract: RPC methods, events, errors."""
from obcommon.messaging import Contract, EventSpec, RpcMethod

from .exceptions import (BookingForbidden, BookingNotFound, DateOutOfRange, DuplicateBooking, IdempotencyKeyReused,
                         InvalidRange, OfficeFull, OfficeNotFound, ParkingFull, ReasonRequired, TooLateToCancel,
                         UserQuotaExceeded)
from .schemas import BookingEvent

SERVICE = "booking"

BOOKING_CREATED = EventSpec(SERVICE, "booking_created", BookingEvent, "a booking was made")
BOOKING_CANCELLED = EventSpec(SERVICE, "booking_cancelled", BookingEvent, "a booking was cancelled")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("create_booking", "(request: {user, office, date, parking, reason}, caller, idempotency_key=None)"
                  " -> Booking", "rules 5-11 of SPEC §4 in one transaction"),
        RpcMethod("cancel_booking", "(booking_id, caller: {email, system_admin, offices}) -> None", "cancel"),
        RpcMethod("get_booking", "(booking_id) -> Booking", "one booking, cancelled ones included"),
        RpcMethod("list_bookings", "(user=None, offices=None, office=None, date_from=None, date_to=None,"
                  " include_cancelled=False) -> [Booking]", "by date then office"),
        RpcMethod("get_slots", "(office_id, dates: [YYYY-MM-DD]) -> [Slot]", "bookings and parking used per day"),
    ],
    events=[BOOKING_CREATED, BOOKING_CANCELLED],
    errors=[InvalidRange, OfficeNotFound, DateOutOfRange, ReasonRequired, DuplicateBooking, OfficeFull, ParkingFull,
            UserQuotaExceeded, IdempotencyKeyReused, BookingNotFound, BookingForbidden, TooLateToCancel],
)
