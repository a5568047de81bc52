"""SCIM 2.0 provisioning (SPEC §16; RFC 7643/7644) at `/scim/v2`: the company's identity provider
creates, updates, disables and deletes accounts.

The protocol (routing, filters, PATCH, attribute selection, discovery, SCIM error bodies) is the
`scim2-server` library's; this module gives it a storage over the identity service's accounts
(`get_account`, `list_accounts`, `create_account`, `replace_account`, `delete_account`) and the
bearer token check. `userName` is the user's email (an address allowed by `email_regex`, which
cannot change); `active: false` disables the account (identity revokes its sessions on every
replica, booking cancels its future bookings, requests, waitlist entries and regular days);
DELETE erases the user as SPEC §4 says. The rest of the resource (names, emails, the enterprise
extension …) is kept as the provider sent it. `SCIM_TOKEN` unset: every path answers 404.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nameko.exceptions import RemoteError, RpcTimeout
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    ETag,
    External,
    Filter,
    InvalidFilterException,
    InvalidValueException,
    Mutability,
    MutabilityException,
    NotFoundException,
    Reference,
    Resource,
    ResourceType,
    SCIMException,
    ScimProvider,
    SearchRequest,
    Sort,
    UnauthorizedException,
    UniquenessException,
)
from scim2_server.applications.wsgi import WSGIApplication
from scim2_server.requests import ScimRequest
from scim2_server.service import ScimService
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import load_default_resource_types, load_default_schemas, load_default_service_provider_config

from obcommon.emails import is_valid_email, normalize_email
from obcommon.messaging import ServiceError
from services.identity.exceptions import InvalidUserQuery, InvalidUserUpdate, UserExists, UserNotFound

from .rpc import RpcPool

log = logging.getLogger("gateway.scim")

ACTOR = "scim"  # the audit actor of provisioning changes
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_RESULTS = 200
EQUALITY = {"username": "userName", "externalid": "externalId", "id": "id", "displayname": "displayName"}


def provider() -> ScimProvider:
    """What `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` announce: Users (with the
    enterprise extension), PATCH and filters, bearer tokens; no bulk, sort, ETags or passwords."""
    config = load_default_service_provider_config().model_copy(update={
        "bulk": Bulk(supported=False, max_operations=0, max_payload_size=0), "sort": Sort(supported=False),
        "etag": ETag(supported=False), "change_password": ChangePassword(supported=False),
        "filter": Filter(supported=True, max_results=MAX_RESULTS)})
    config.authentication_schemes = [AuthenticationScheme(
        type=AuthenticationScheme.Type.oauthbearertoken, name="Bearer token",
        description="The token of the SCIM_TOKEN setting, as an HTTP Bearer token",
        spec_uri=Reference[External]("https://www.rfc-editor.org/rfc/rfc6750"), primary=True)]
    schemas = [s for urn, s in load_default_schemas().items() if urn in (USER_SCHEMA, ENTERPRISE_SCHEMA)]
    for schema in schemas:  # the email is the account: set at creation, never changed (400 mutability)
        for attribute in schema.attributes or []:
            if schema.id == USER_SCHEMA and attribute.name == "userName":
                attribute.mutability = Mutability.immutable
                attribute.description = "The user's email address (SPEC §16): set at creation, never changed."
    types = [t for t in load_default_resource_types().values() if t.name == "User"]
    return ScimProvider.from_discovery(schemas, types, config=config)


class IdentityStorage(ScimStorage):
    """The SCIM Users, stored by the identity service (one RPC per operation)."""

    def __init__(self, pool: RpcPool, model: Callable[[ResourceType], type[Resource[Any]]]):
        self.pool = pool
        self.model = model

    def _call(self, method: str, *args: Any) -> Any:
        with self.pool.client() as services:
            try:
                return getattr(services.identity, method)(*args)
            except UserNotFound:
                raise NotFoundException() from None
            except UserExists:
                raise UniquenessException(detail="userName is already taken") from None
            except InvalidUserQuery as exc:
                raise InvalidFilterException(detail=exc.message) from None
            except InvalidUserUpdate as exc:
                if "cannot change" in exc.message:
                    raise MutabilityException(detail=exc.message) from None
                raise InvalidValueException(detail=exc.message) from None

    def _resource(self, resource_type: ResourceType, account: dict) -> Resource[Any]:
        data = {k: v for k, v in (account.get("resource") or {}).items() if k not in ("id", "meta")}
        data.update({"schemas": data.get("schemas") or [USER_SCHEMA], "id": account["id"], "userName": account["email"]})
        if "active" in data or not account["active"]:  # as the provider set it (absent: enabled)
            data["active"] = account["active"]
        for key, field in (("externalId", "external_id"), ("displayName", "display_name")):
            if account.get(field) is None:
                data.pop(key, None)
            else:
                data[key] = account[field]
        stamp = datetime.fromisoformat(account["updated_at"])
        data["meta"] = {"resourceType": resource_type.name, "created": account["created_at"],
                        "lastModified": account["updated_at"], "version": f'W/"{int(stamp.timestamp() * 1e6)}"'}
        return self.model(resource_type).model_validate(data)

    @staticmethod
    def _fields(resource: Resource[Any]) -> tuple[str, bool, str | None, str | None, dict]:
        data = resource.model_dump(mode="json")
        email = normalize_email(str(data.get("userName") or ""))
        if not is_valid_email(email):
            raise InvalidValueException(detail="userName must be the user's email address")
        kept = {k: v for k, v in data.items() if k not in ("id", "meta", "userName")}
        return email, data.get("active") is not False, data.get("externalId"), data.get("displayName"), kept

    def get(self, resource_type, resource_id, *, response_parameters=None):
        return self._resource(resource_type, self._call("get_account", str(resource_id)))

    def search(self, resource_types, search_request: SearchRequest[Any], *, position=None) -> SearchPage:
        start, count = search_request.start_index or 1, search_request.count
        count = MAX_RESULTS if count is None else count
        scim_filter = search_request.filter
        (resource_type,) = [t for t in resource_types if t.name == "User"] or [None]
        if resource_type is None:
            return SearchPage(0, [])
        pushed = _simple_equality(str(scim_filter)) if scim_filter is not None else None
        if scim_filter is None or pushed is not None:
            attribute, value = pushed or (None, None)
            page = self._call("list_accounts", attribute, value, start, count)
            return SearchPage(page["total"], [self._resource(resource_type, a) for a in page["accounts"]])
        # any other filter: evaluated here over every account (a company has thousands, not millions)
        everyone = self._call("list_accounts", None, None, 1, 1_000_000)["accounts"]
        found = [r for r in (self._resource(resource_type, a) for a in everyone) if scim_filter.match(r)]
        return SearchPage(len(found), found[start - 1:start - 1 + count])

    def create(self, resource_type, resource):
        email, active, external_id, display_name, kept = self._fields(resource)
        account = self._call("create_account", email, active, external_id, display_name, ACTOR, kept)
        return self._resource(resource_type, account)

    def update(self, resource_type, resource, *, expected_version=None):
        email, active, external_id, display_name, kept = self._fields(resource)
        account = self._call("replace_account", str(resource.id), active, external_id, display_name, ACTOR, email,
                             kept)
        return self._resource(resource_type, account)

    def delete(self, resource_type, resource_id, *, expected_version=None):
        self._call("delete_account", str(resource_id), ACTOR)


def _simple_equality(text: str) -> tuple[str, Any] | None:
    """`userName eq "x"` (and externalId, id, displayName, active) is answered by the identity
    service's own query; None for any other filter."""
    import shlex

    try:
        parts = shlex.split(text)
    except ValueError:
        return None
    if len(parts) != 3 or parts[1].lower() != "eq":
        return None
    name = parts[0].rsplit(":", 1)[-1].lower()  # a fully qualified attribute URN ends with :userName
    if name == "active" and parts[2].lower() in ("true", "false"):
        return "active", parts[2].lower() == "true"
    if name in EQUALITY and not text.rstrip().endswith(("true", "false", "null")) and '"' in text:
        return EQUALITY[name], parts[2]
    return None


class ScimApplication(WSGIApplication):
    """The SCIM WSGI application, behind the `SCIM_TOKEN` bearer token (constant-time compare)."""

    def __init__(self, pool: RpcPool, token: str, read_only: bool = False):
        scim_provider = provider()
        service = ScimService(scim_provider)
        super().__init__(IdentityStorage(pool, service.get_model), scim_provider, service)
        self._token = token.encode()
        self._read_only = read_only

    def check_auth(self, request: ScimRequest) -> None:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self._token):
            raise UnauthorizedException()
        if self._read_only and request.method not in ("GET", "HEAD"):  # SPEC §7 read_only: every write 503
            raise ServiceUnavailable(detail="Read-only mode: try again later")

    def handle_exception(self, request: ScimRequest, exception: Exception):
        """A dependency down (the broker, the identity service, its database) is a 503 SCIM error,
        never a 500 with a stack trace (SPEC §10)."""
        if isinstance(exception, (RpcTimeout, RemoteError, ServiceError, ConnectionError, OSError)):
            log.error("SCIM %s %s: a dependency is unavailable: %r", request.method, request.path, exception)
            return self.service.error_response(ServiceUnavailable())
        return super().handle_exception(request, exception)


class ServiceUnavailable(SCIMException):
    status = 503
    _default_detail = "Service unavailable: try again"


def mount(app, pool: RpcPool, token: str | None, read_only: bool = False) -> None:
    """Serve SCIM at /scim/v2 beside the Flask app (SCIM_TOKEN unset: /scim answers Flask's 404)."""
    if not token:
        return
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/scim": ScimApplication(pool, token, read_only)})
