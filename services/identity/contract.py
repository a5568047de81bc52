"""The identity service's contract: RPC methods, events, errors. Import this, not service.py."""
from obcommon.messaging import Contract, EventPayload, EventSpec, RpcMethod

from .exceptions import (
                         AccountDisabled,
                         DependencyUnavailable,
                         InvalidCode,
                         InvalidUserQuery,
                         InvalidUserUpdate,
                         RateLimited,
                         UserExists,
                         UserNotFound,
)
from .schemas import LoginCodeIssued, SessionRevoked, UserChanged, UserErased

SERVICE = "identity"

LOGIN_CODE_ISSUED = EventSpec(SERVICE, "login_code_issued", LoginCodeIssued, "a code was issued; notify mails it")
USER_SIGNED_IN = EventSpec(SERVICE, "user_signed_in", EventPayload, "a code was verified and a session started")
SESSION_REVOKED = EventSpec(SERVICE, "session_revoked", SessionRevoked, "a session ended (logout); gateways drop it")
USER_CHANGED = EventSpec(SERVICE, "user_changed", UserChanged, "a user's profile, role or quota changed")
USER_ERASED = EventSpec(SERVICE, "user_erased", UserErased,
                        "a user was erased; booking and notify delete their data, audit pseudonymises them")

CONTRACT = Contract(
    service=SERVICE,
    rpc=[
        RpcMethod("request_code", "(email, client_address) -> {sent: bool}", "issue a login code if allowed; rate-limited"),
        RpcMethod("verify_code", "(email, code, client_address=None) -> {token, session_id, expires_at, user: User}",
                  "start a session; wrong codes are rate-limited per address and client across codes"),
        RpcMethod("get_session", "(session_id) -> SessionInfo | None", "who a session belongs to (gateway read model)"),
        RpcMethod("logout", "(session_id) -> None", "end a session everywhere"),
        RpcMethod("get_user", "(email) -> User", "a user, with defaults for a never-seen allowed address"),
        RpcMethod("list_users", "(role=None, custom_quota=None, auto_approved=None, email_prefix=None, limit=50,"
                  " cursor=None) -> {users: [User], next_cursor}", "stored profiles by email (keyset cursor)"),
        RpcMethod("update_user", "(email, changes: {quota?, role?: {name, offices}, auto_approved?}, actor) -> User",
                  "change (or prepare) a profile; emits user_changed"),
        RpcMethod("erase_user", "(email, actor) -> {pseudonym, sessions}",
                  "delete profile and sessions; emits session_revoked per session and user_erased"),
        RpcMethod("oidc_sign_in", "(email, groups=None) -> {token, session_id, expires_at, user: User}",
                  "SPEC §16: a session for a user the OpenID provider signed in; group mapping applied"),
        RpcMethod("get_account", "(account_id) -> Account", "SCIM: an account by its SCIM id"),
        RpcMethod("list_accounts", "(attribute=None, value=None, start=1, count=100) -> {total, accounts}",
                  "SCIM: accounts by email, optionally where attribute eq value"),
        RpcMethod("create_account", "(email, active, external_id, display_name, actor) -> Account",
                  "SCIM create (UserExists for a known address)"),
        RpcMethod("replace_account", "(account_id, active, external_id, display_name, actor, email=None) -> Account",
                  "SCIM replace; disabling revokes every session and emits user_changed (active false)"),
        RpcMethod("delete_account", "(account_id, actor) -> {pseudonym, sessions}", "SCIM delete: erase_user"),
    ],
    events=[LOGIN_CODE_ISSUED, USER_SIGNED_IN, SESSION_REVOKED, USER_CHANGED, USER_ERASED],
    errors=[InvalidCode, RateLimited, UserNotFound, InvalidUserUpdate, InvalidUserQuery, DependencyUnavailable,
            AccountDisabled, UserExists],
)
