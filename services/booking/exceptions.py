"""Errors the booking service raises on purpose (mapped to HTTP in gateway/errors.py).

Each rejection of SPEC §4 has its own type, exact message and stable `code` (SPEC §18, the error
body's `code`), so the gateway's mapping is a table and the metrics can count rejections by reason.
"""
from obcommon.messaging import ServiceError, remote_error


class BookingError(ServiceError):
    default_message = "Error"
    reason = "error"  # metrics label (ob_booking_decisions_total outcome)

    def __init__(self, message: str = "", *args):
        super().__init__(message or self.default_message, *args)


@remote_error
class InvalidRange(BookingError):
    default_message = "Invalid date range"
    reason = "invalid_range"
    code = "invalid_range"


@remote_error
class OfficeNotFound(BookingError):
    default_message = "Office not found"  # rule 5: unknown or retired (400)
    reason = "office_not_found"
    code = "office_not_found"


@remote_error
class DateOutOfRange(BookingError):
    default_message = "Date out of range"  # rule 6 (400)
    reason = "date_out_of_range"
    code = "date_out_of_range"


@remote_error
class ReasonRequired(BookingError):
    default_message = "Reason to book required"  # rule 7 (400)
    reason = "reason_required"
    code = "reason_required"


@remote_error
class DuplicateBooking(BookingError):
    default_message = "Can't have multiple bookings per day"  # rule 8 (409)
    reason = "duplicate"
    code = "duplicate_booking"


@remote_error
class OfficeFull(BookingError):
    default_message = "Office quota exceeded"  # rule 9 (409)
    reason = "office_full"
    code = "office_full"


@remote_error
class OfficeClosed(BookingError):
    default_message = "Office closed on that day"  # SPEC §15, checked right after rule 8 (409)
    reason = "office_closed"
    code = "office_closed"


@remote_error
class DayChangeInvalid(BookingError):
    default_message = "Invalid day change"  # SPEC §15: a bad date or field, named in the message (400)
    reason = "invalid_day_change"
    code = "invalid_field"


@remote_error
class ParkingFull(BookingError):
    default_message = "Office parking quota exceeded"  # rule 10 (409)
    reason = "parking_full"
    code = "parking_full"


@remote_error
class UserQuotaExceeded(BookingError):
    default_message = "User quota exceeded"  # rule 11 (409)
    reason = "user_quota"
    code = "user_quota_exceeded"


@remote_error
class IdempotencyKeyReused(BookingError):
    default_message = "Idempotency key reused"  # same key, different body (409)
    reason = "idempotency_key_reused"
    code = "idempotency_key_reused"


@remote_error
class BookingNotFound(BookingError):
    default_message = "Not Found"  # unknown or already cancelled (404)
    reason = "not_found"
    code = "not_found"


@remote_error
class BookingForbidden(BookingError):
    default_message = "Forbidden"  # someone else's booking without rights (403)
    reason = "forbidden"
    code = "forbidden"


@remote_error
class TooLateToCancel(BookingError):
    default_message = "No longer able to cancel booking"  # past the deadline (403)
    reason = "too_late"
    code = "too_late_to_cancel"


@remote_error
class TooLateToRelease(BookingError):
    default_message = "No longer able to release booking"  # SPEC §11: after the day, or the owner past the deadline (403)
    reason = "too_late_to_release"
    code = "too_late_to_release"


@remote_error
class ReleaseBeforeDay(BookingError):
    default_message = "Not yet the booking day: cancel the booking instead"  # SPEC §11: before the day (403)
    reason = "release_before_day"
    code = "release_before_day"


@remote_error
class NoBookingToday(BookingError):
    default_message = "No booking today at this office"  # SPEC §11 door check-in (404)
    reason = "no_booking_today"
    code = "no_booking_today"


@remote_error
class PlacesAvailable(BookingError):
    default_message = "Places are available: book instead"  # SPEC §12: joining when a booking would be made (409)
    reason = "places_available"
    code = "places_available"


@remote_error
class AlreadyWaitlisted(BookingError):
    default_message = "Already on the waitlist"  # SPEC §12: the same user, office and day (409)
    reason = "already_waitlisted"
    code = "already_waitlisted"


@remote_error
class WaitlistClosed(BookingError):
    default_message = "The waitlist for that day has closed"  # SPEC §12: its deadline (or start) has come (409)
    reason = "waitlist_closed"
    code = "waitlist_closed"


@remote_error
class WaitlistEntryNotFound(BookingError):
    default_message = "Not Found"  # an unknown waitlist entry, or one no longer waiting (404)
    reason = "not_found"
    code = "not_found"


@remote_error
class RecurringInvalid(BookingError):
    default_message = "Invalid recurring pattern"  # SPEC §14: a bad field, named in the message (400)
    reason = "invalid_pattern"
    code = "invalid_field"


@remote_error
class PatternNotFound(BookingError):
    default_message = "Not Found"  # an unknown or deleted pattern (404)
    reason = "not_found"
    code = "not_found"


@remote_error
class FeedNotFound(BookingError):
    default_message = "Not Found"  # a calendar feed token that is unknown, rotated or revoked (404)
    reason = "not_found"
    code = "not_found"


# Rejections a stored idempotent response can replay, by name.
REPLAYABLE = {cls.__name__: cls for cls in (OfficeNotFound, DateOutOfRange, ReasonRequired, DuplicateBooking,
                                             OfficeClosed, OfficeFull, ParkingFull, UserQuotaExceeded)}
