"""Errors the offices service raises on purpose (mapped to HTTP in gateway/errors.py)."""
from obcommon.messaging import ServiceError, remote_error


@remote_error
class OfficeNotFound(ServiceError):
    """No office with that id (404)."""
