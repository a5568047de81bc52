"""Errors the offices service raises on purpose (mapped to HTTP in gateway/errors.py)."""
from obcommon.messaging import ServiceError, remote_error


@remote_error
class OfficeNotFound(ServiceError):
    """No office with that id (404)."""

    code = "not_found"


@remote_error
class OfficeExists(ServiceError):
    """An office with that id already exists (409)."""

    code = "office_exists"


@remote_error
class InvalidOffice(ServiceError):
    """A bad office field; the message names it (400)."""

    code = "invalid_field"
