"""Errors the audit service raises on purpose (mapped to HTTP in gateway/errors.py)."""
from obcommon.messaging import ServiceError, remote_error


@remote_error
class InvalidCursor(ServiceError):
    """A `cursor` that this service did not hand out (400)."""

    code = "invalid_cursor"


@remote_error
class InvalidFilter(ServiceError):
    """A bad `date_from`, `date_to` or `limit` (400)."""

    code = "bad_query"
