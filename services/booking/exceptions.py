"""Errors the booking service raises on purpose (mapped to HTTP in gateway/errors.py)."""
from obcommon.messaging import ServiceError, remote_error


@remote_error
class InvalidRange(ServiceError):
    """A date range that is malformed or too long (400)."""
