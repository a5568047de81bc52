"""Errors the notify service raises on purpose. None yet: its RPCs only report status."""
from obcommon.messaging import ServiceError, remote_error


@remote_error
class NotifyError(ServiceError):
    """Base of notify's errors (none are raised yet)."""

    code = "internal_error"
