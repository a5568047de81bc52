"""Identity: one-time-code login, sessions, users and roles (SPEC §1, §2).

The entry points: each parses its arguments, applies the pure rules of `rules.py` and lets
`repository.py` run the transaction (SQL, locks, outbox)."""
from __future__ import annotations

import logging

import eventlet
from nameko.timer import timer
from pydantic import ValidationError

from obcommon import erasure, validation
from obcommon.db import utcnow
from obcommon.emails import normalize_email
from obcommon.service import BaseService, Database, RpcProxy, command, rpc

from . import repository, rules
from .contract import SERVICE
from .dependencies import Keys, OfficeIds
from .exceptions import DependencyUnavailable, InvalidUserQuery, InvalidUserUpdate, UserNotFound
from .models import Base, User
from .schemas import UserUpdate

log = logging.getLogger(__name__)

OFFICES_TIMEOUT = 8  # seconds; below the gateway's RPC timeout, so the caller gets a clean 503


class IdentityService(BaseService):
    name = SERVICE

    db = Database(Base)
    keys = Keys()
    office_ids = OfficeIds()
    offices_rpc = RpcProxy("offices")

    # ---------------------------------------------------------------- login codes

    @command
    def request_code(self, email: str, client_address: str) -> dict:
        """Rate-limit, then issue a code if the address is allowed. Same answer either way."""
        sent = repository.request_code(self.db, self.settings, self.keys.code_key, normalize_email(email),
                                       client_address, utcnow())
        return {"sent": sent}

    @rpc
    def verify_code(self, email: str, code: str, client_address: str | None = None) -> dict:
        """Start a session for a right code. Wrong codes count against the address and the client
        address (from the gateway) across codes; at the limit, 429 until the window frees a try."""
        return repository.verify_code(self.db, self.settings, self.keys.code_key, normalize_email(email), code,
                                      client_address, utcnow(), self._view)

    # ---------------------------------------------------------------- sessions

    @rpc
    def get_session(self, session_id: str) -> dict | None:
        return repository.get_session(self.db, session_id, utcnow(), self._view)

    @command
    def logout(self, session_id: str) -> None:
        return repository.logout(self.db, session_id)

    # ---------------------------------------------------------------- users

    @rpc
    def get_user(self, email: str) -> dict:
        email = normalize_email(email)
        if not self.settings.email_allowed(email):
            raise UserNotFound("Not Found")
        return repository.get_user(self.db, email, self._view)

    @rpc
    def list_users(self, role=None, custom_quota=None, auto_approved=None, email_prefix=None,
                   limit=rules.DEFAULT_LIMIT, cursor=None) -> dict:
        """Stored profiles (signed in at least once, or prepared by an admin), by email."""
        try:
            limit = rules.clamp_limit(limit)
            custom, auto = rules.parse_flag(custom_quota), rules.parse_flag(auto_approved)
        except ValueError:
            raise InvalidUserQuery("Bad query parameters") from None
        try:
            after = rules.decode_user_cursor(cursor) if cursor else None
        except ValueError:
            raise InvalidUserQuery("Invalid cursor") from None
        prefix = normalize_email(str(email_prefix)) if email_prefix else None
        return repository.list_users(self.db, list(self.settings.system_admin_emails), role, custom, auto, prefix,
                                     limit, after, self._view)

    @command
    def update_user(self, email: str, changes: dict, actor: str) -> dict:
        """Change quota, role and offices, auto-approval (SPEC §1, §9); absent fields stay as
        they are. An allowed address never seen before gets its profile here (prepared)."""
        email, actor = normalize_email(str(email)), normalize_email(str(actor))
        if not self.settings.email_allowed(email):
            raise UserNotFound("Not Found")
        if not isinstance(changes, dict):
            raise InvalidUserUpdate("Bad request body")
        try:
            update = UserUpdate.model_validate(changes, strict=True)
        except ValidationError as exc:
            raise InvalidUserUpdate(validation.describe(exc)) from None
        fields = set(update.model_fields_set)
        existing = None
        if "role" in fields and update.role is not None and update.role.name == rules.OFFICE_ADMIN:
            try:  # a reply lost (e.g. while a service restarts) must not hold this worker forever
                with eventlet.Timeout(OFFICES_TIMEOUT):
                    existing = {o["id"] for o in self.offices_rpc.list_offices(include_retired=True)}
            except eventlet.Timeout:
                raise DependencyUnavailable("Service unavailable") from None
        return repository.update_user(self.db, self.settings, email, update, fields, existing, actor, self._view)

    @command
    def erase_user(self, email: str, actor: str) -> dict:
        """Erase a user (SPEC §4): profile, sessions, login code and rate-limit hits go here, in one
        transaction with the events; `user_erased` makes booking and notify delete the user's data
        and audit replace the email with a pseudonym. System Admins from the configuration cannot
        be erased (they would still be System Admins: remove them from the configuration first)."""
        email, actor = normalize_email(str(email)), normalize_email(str(actor))
        if not self.settings.email_allowed(email):
            raise UserNotFound("Not Found")
        if self.settings.is_system_admin(email):
            raise InvalidUserUpdate("A System Admin from the configuration cannot be erased: remove the address"
                                    " from system_admin_emails first")
        pseudonym = erasure.pseudonym(self.keys.pseudonym_key, email)
        sessions = repository.erase_user(self.db, email, actor, pseudonym)
        return {"pseudonym": pseudonym, "sessions": sessions}

    # ---------------------------------------------------------------- the identity provider (SPEC §16)

    @rpc
    def oidc_sign_in(self, email: str, groups: list[str] | None = None) -> dict:
        """A session for someone the company's OpenID provider signed in (the gateway verified the
        ID token); with `oidc.group_offices` configured, their Office Admin offices follow their
        groups. Not a command: its answer is a bearer token (as verify_code's)."""
        email = normalize_email(str(email))
        if not self.settings.email_allowed(email):
            raise UserNotFound("Not Found")
        existing = None
        if self.settings.oidc is not None and self.settings.oidc.group_offices is not None:
            try:
                with eventlet.Timeout(OFFICES_TIMEOUT):
                    existing = {o["id"] for o in self.offices_rpc.list_offices(include_retired=False)}
            except eventlet.Timeout:
                raise DependencyUnavailable("Service unavailable") from None
        groups = [str(g) for g in groups] if isinstance(groups, list) else None
        return repository.oidc_sign_in(self.db, self.settings, email, groups, existing, utcnow(), self._view)

    @rpc
    def get_account(self, account_id: str) -> dict:
        return repository.get_account(self.db, str(account_id))

    @rpc
    def list_accounts(self, attribute: str | None = None, value=None, start: int = 1, count: int = 100) -> dict:
        """SCIM's list: `attribute` one of userName, externalId, id, displayName, active (eq)."""
        if attribute is not None and attribute not in (*repository.ACCOUNT_FILTERS, "active"):
            raise InvalidUserQuery(f"Unsupported filter attribute: {attribute}")
        return repository.list_accounts(self.db, attribute, value, int(start), min(int(count), 1000))

    @command
    def create_account(self, email: str, active: bool, external_id: str | None, display_name: str | None,
                       actor: str, resource: dict | None = None) -> dict:
        email = normalize_email(str(email))
        if not self.settings.email_allowed(email):
            raise InvalidUserUpdate("userName must be an email address allowed to sign in")
        return repository.create_account(self.db, email, bool(active), external_id, display_name, actor, utcnow(),
                                         resource)

    @command
    def replace_account(self, account_id: str, active: bool, external_id: str | None, display_name: str | None,
                        actor: str, email: str | None = None, resource: dict | None = None) -> dict:
        return repository.replace_account(self.db, str(account_id), bool(active), external_id, display_name, actor,
                                          utcnow(), normalize_email(email) if email else None, resource)

    @command
    def delete_account(self, account_id: str, actor: str) -> dict:
        """SCIM delete: the user is erased as SPEC §4 says (erase_user)."""
        return self.erase_user(repository.account_email(self.db, str(account_id)), actor)

    # ---------------------------------------------------------------- housekeeping

    def _view(self, user: User | None, email: str) -> dict:
        ids = self.office_ids.get(self.offices_rpc) if self.settings.is_system_admin(email) else []
        if user is None:
            return rules.user_view(self.settings, email, None, None, [], False, ids)
        return rules.user_view(self.settings, email, user.quota, user.role, list(user.role_offices or []),
                               user.auto_approved, ids)

    @timer(interval=300)
    def purge_expired(self) -> None:
        repository.purge_expired(self.db, self.settings, utcnow())


Service = IdentityService
