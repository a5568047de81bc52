"""Errors the identity service raises on purpose (mapped to HTTP in gateway/errors.py)."""
from obcommon import messaging
from obcommon.messaging import ServiceError, remote_error


@remote_error
class InvalidCode(ServiceError):
    """Wrong, used, expired or exhausted login code (401)."""

    code = "invalid_code"


@remote_error
class RateLimited(ServiceError):
    """Too many code requests; `retry_after` is in seconds (429)."""

    code = "too_many_requests"

    def __init__(self, message: str = "Too many requests", retry_after: int = 60):
        super().__init__(message, retry_after)
        self.retry_after = int(retry_after)


@remote_error
class UserNotFound(ServiceError):
    """The address is not allowed by email_regex, so there is no such user (404)."""

    code = "not_found"


@remote_error
class InvalidUserUpdate(ServiceError):
    """A user change that breaks a rule, e.g. granting System Admin (400)."""

    code = "invalid_user_update"


@remote_error
class InvalidUserQuery(ServiceError):
    """A bad filter or a `cursor` this service did not hand out, listing users (400)."""

    code = "bad_query"


@remote_error
class DependencyUnavailable(messaging.DependencyUnavailable):
    """A service identity needs (offices) did not answer in time (503)."""


@remote_error
class AccountDisabled(ServiceError):
    """The identity provider disabled the account (SPEC §16): no sign-in (403 "Account disabled")."""

    code = "account_disabled"


@remote_error
class UserExists(ServiceError):
    """SCIM create of a userName that already has a profile (409, scimType uniqueness)."""

    code = "user_exists"
