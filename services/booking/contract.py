"""The booking service's contract: RPC methods, events, errors."""
from obcommon.messaging import Contract, EventPayload, EventSpec, RpcMethod

from .exceptions import (
                         AlreadyWaitlisted,
                         BookingForbidden,
                         BookingNotFound,
                         DateOutOfRange,
                         DayChangeInvalid,
                         DuplicateBooking,
                         FeedNotFound,
                         IdempotencyKeyReused,
                         InvalidRange,
                         NoBookingToday,
                         OfficeClosed,
                         OfficeFull,
                         OfficeNotFound,
                         ParkingFull,
                         PatternNotFound,
                         PlacesAvailable,
                         ReasonRequired,
                         RecurringInvalid,
                         ReleaseBeforeDay,
                         TooLateToCancel,
                         TooLateToRelease,
                         UserQuotaExceeded,
                         WaitlistClosed,
                         WaitlistEntryNotFound,
)
from .schemas import BallotDrawn, BookingEvent, BookingReleased, DayChanged, UserBookingsErased, WaitlistEvent

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
WAITLIST_JOINED = EventSpec(SERVICE, "waitlist_joined", WaitlistEvent, "a user queued for a full day (SPEC §12)")
WAITLIST_LEFT = EventSpec(SERVICE, "waitlist_left", WaitlistEvent, "a user (or an admin) took an entry off the queue")
WAITLIST_PROMOTED = EventSpec(SERVICE, "waitlist_promoted", WaitlistEvent,
                              "a freed place went to this entry: `booking` (also a booking_created)")
WAITLIST_EXPIRED = EventSpec(SERVICE, "waitlist_expired", WaitlistEvent,
                             "the day's waitlist closed (its check-in deadline, or its start) with the entry waiting")
WAITLIST_CANCELLED = EventSpec(SERVICE, "waitlist_cancelled", WaitlistEvent,
                               "the entry was cancelled: its day closed with cancel_existing (SPEC §15)")
RECURRING_CREATED = EventSpec(SERVICE, "recurring_created", EventPayload,
                              "a recurring pattern was created (SPEC §14): `after` is the pattern")
RECURRING_DELETED = EventSpec(SERVICE, "recurring_deleted", EventPayload,
                              "a recurring pattern was deleted (its bookings stay): `before` is the pattern")
RECURRING_REFUSED = EventSpec(SERVICE, "recurring_refused", EventPayload,
                              "a user's refused occurrences, once a day (SPEC §14): `after.refusals`"
                              " [{date, office: {id, name}, message, code}]; entity_id is the user")
BALLOT_DRAWN = EventSpec(SERVICE, "ballot_drawn", BallotDrawn,
                         "an office-day's requests were drawn (SPEC §13): the audit record of the draw")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("create_booking", "(request: {user, office, date, parking, reason}, caller, idempotency_key=None,"
                  " request_id=None) -> Booking", "rules 5-11 of SPEC §4 in one transaction (request_id: the gateway's"
                  " name for a call without a client key; a refusal is not kept under it)"),
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
        RpcMethod("join_waitlist", "(request: {user, office, date, parking, reason}, caller) -> WaitlistEntry",
                  "SPEC §12: queue for a full or closed day (rules 5-8 and 11)"),
        RpcMethod("list_waitlist", "(user=None, offices=None, office=None, date=None) -> [WaitlistEntry]",
                  "waiting entries with their position"),
        RpcMethod("leave_waitlist", "(entry_id, caller: {email, system_admin, offices}) -> WaitlistEntry",
                  "leave the queue (owner or admins of the office)"),
        RpcMethod("create_pattern", "(fields: {office, weekdays, parking, until, reason}, user, caller) -> Pattern",
                  "SPEC §14: a recurring pattern; books its occurrences already in the window"),
        RpcMethod("list_patterns", "(user=None, offices=None) -> [Pattern]", "patterns with their last results"),
        RpcMethod("delete_pattern", "(pattern_id, caller: {email, system_admin, offices}) -> None",
                  "stop a pattern (its bookings stay)"),
        RpcMethod("cancel_range", "(caller, date_from, date_to, office=None) -> {cancelled, kept: [{id, message}]}",
                  "SPEC §14: cancel the caller's own bookings they may still cancel in a range"),
        RpcMethod("create_feed", "(user) -> token", "SPEC §14: a new calendar feed token (the earlier stops)"),
        RpcMethod("revoke_feed", "(user) -> None", "the feed URL stops working"),
        RpcMethod("feed", "(token) -> text/calendar", "the user's bookings as RFC 5545 (FeedNotFound: 404)"),
    ],
    events=[BOOKING_CREATED, BOOKING_CANCELLED, BOOKING_CHECKED_IN, BOOKING_RELEASED, USER_BOOKINGS_ERASED, DAY_CHANGED,
            WAITLIST_JOINED, WAITLIST_LEFT, WAITLIST_PROMOTED, WAITLIST_EXPIRED, WAITLIST_CANCELLED, BALLOT_DRAWN,
            RECURRING_CREATED, RECURRING_DELETED, RECURRING_REFUSED],
    errors=[InvalidRange, OfficeNotFound, DateOutOfRange, ReasonRequired, DuplicateBooking, OfficeClosed,
            DayChangeInvalid, OfficeFull, ParkingFull,
            UserQuotaExceeded, IdempotencyKeyReused, BookingNotFound, BookingForbidden, TooLateToCancel,
            TooLateToRelease, ReleaseBeforeDay, NoBookingToday, PlacesAvailable, AlreadyWaitlisted, WaitlistClosed,
            WaitlistEntryNotFound, RecurringInvalid, PatternNotFound, FeedNotFound],
)
