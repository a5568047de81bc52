"""The booking service's contract: RPC methods, events, errors."""
from obcommon.messaging import Contract, EventPayload, EventSpec, RpcMethod

from .exceptions import (
                         BookingForbidden,
                         BookingNotFound,
                         DateOutOfRange,
                         DayChangeInvalid,
                         DuplicateBooking,
                         IdempotencyKeyReused,
                         InvalidRange,
                         NoBookingToday,
                         OfficeClosed,
                         OfficeFull,
                         OfficeNotFound,
                         ParkingFull,
                         ReasonRequired,
                         ReleaseBeforeDay,
                         TooLateToCancel,
                         TooLateToRelease,
                         UserQuotaExceeded,
)
from .schemas import BookingEvent, BookingReleased, DayChanged, UserBookingsErased

SERVICE = "booking"

BOOKING_CREATED = EventSpec(SERVICE, "booking_created", BookingEvent, "a booking was made")
BOOKING_CANCELLED = EventSpec(SERVICE, "booking_cancelled", BookingEvent, "a booking was cancelled")
BOOKING_CHECKED_IN = EventSpec(SERVICE, "booking_checked_in", EventPayload,
                               "the first valid scan of a pass at its office on its day")
BOOKING_RELEASED = EventSpec(SERVICE, "booking_released", BookingReleased,
                             "a booking was released: no check-in by the office's deadline (actor system),"
                             " or its holder is not coming (SPEC §11)")
USER_BOOKINGS_ERASED = EventSpec(SERVICE, "user_bookings_erased", UserBookingsErased,
                                 "an erased user's bookings were deleted (identity.user_erased)")
DAY_CHANGED = EventSpec(SERVICE, "day_changed", DayChanged,
                        "an office-day's override (quota, parking, closed, note) was set, changed or removed")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("create_booking", "(request: {user, office, date, parking, reason}, caller, idempotency_key=None)"
                  " -> Booking", "rules 5-11 of SPEC §4 in one transaction"),
        RpcMethod("cancel_booking", "(booking_id, caller: {email, system_admin, offices}) -> {office, date}", "cancel"),
        RpcMethod("get_booking", "(booking_id) -> Booking", "one booking, cancelled ones included"),
        RpcMethod("verify_pass", "(booking_id, office, actor) -> {status, booking, checked_in_at}",
                  "SPEC §5: ok | wrong_day | wrong_office | cancelled; the first ok records the check-in"),
        RpcMethod("release_booking", "(booking_id, caller: {email, system_admin, offices}) -> Booking",
                  "SPEC §11 \"I'm not coming\": status released, place freed"),
        RpcMethod("check_in", "(user, office, actor) -> {booking, first_check_in}",
                  "SPEC §11 door check-in: the user's active booking today at that office"),
        RpcMethod("list_bookings", "(user=None, offices=None, office=None, date_from=None, date_to=None,"
                  " include_cancelled=False) -> [Booking]", "by date then office"),
        RpcMethod("get_slots", "(office_id, dates: [YYYY-MM-DD]) -> [Slot + version]",
                  "bookings and parking used per day; `version` orders them against availability events"),
        RpcMethod("stats", "(offices=None, date_from=None, date_to=None) -> [{office, date, bookings, parking}]",
                  "every office x day of the visible range (clamped), zeros included; active offices plus"
                  " retired ones with bookings in the range"),
        RpcMethod("set_day", "(office_id, date, fields: {quota?, parking_quota?, closed?, note?, cancel_existing?},"
                  " actor) -> Day", "SPEC §15: set an office-day's override (closing with cancel_existing cancels"
                  " that day's bookings); under the office-day lock"),
        RpcMethod("clear_day", "(office_id, date, actor) -> Day", "SPEC §15: remove an office-day's override"),
    ],
    events=[BOOKING_CREATED, BOOKING_CANCELLED, BOOKING_CHECKED_IN, BOOKING_RELEASED, USER_BOOKINGS_ERASED, DAY_CHANGED],
    errors=[InvalidRange, OfficeNotFound, DateOutOfRange, ReasonRequired, DuplicateBooking, OfficeClosed,
            DayChangeInvalid, OfficeFull, ParkingFull,
            UserQuotaExceeded, IdempotencyKeyReused, BookingNotFound, BookingForbidden, TooLateToCancel,
            TooLateToRelease, ReleaseBeforeDay, NoBookingToday],
)
