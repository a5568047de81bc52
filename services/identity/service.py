"""Identity: one-time-code login, sessions, users and roles (SPEC §1, §2)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional

import eventlet
from nameko.timer import timer
from pydantic import ValidationError
from sqlalchemy import and_, delete, func, not_, select, text
from sqlalchemy.dialects.postgresql import insert

from obcommon import erasure, validation
from obcommon.db import utcnow
from obcommon.emails import normalize_email
from obcommon.config import AppConfig
from obcommon.service import BaseService, Database, Db, RpcProxy, command, rpc

from . import rules
from .contract import LOGIN_CODE_ISSUED, SERVICE, SESSION_REVOKED, USER_CHANGED, USER_ERASED, USER_SIGNED_IN
from .dependencies import Keys, OfficeIds
from .exceptions import DependencyUnavailable, InvalidCode, InvalidUserQuery, InvalidUserUpdate, RateLimited, UserNotFound
from .models import Base, LoginCode, RateHit, Session, User, VerifyFailure
from .schemas import UserUpdate

log = logging.getLogger(__name__)

CODE_GONE = "Code expired or already used: request a new code"
CODE_WRONG = "Incorrect code"
CODE_EXHAUSTED = "Too many wrong attempts: request a new code"
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
        email = normalize_email(email)
        cfg = self.settings
        window = timedelta(minutes=cfg.code_request_window_minutes)
        now = utcnow()
        with self.db.uow() as uow:
            s = uow.session
            for key, limit in ((f"email:{email}", cfg.code_requests_per_email),
                               (f"client:{client_address}", cfg.code_requests_per_client)):
                locked_for = lock_and_check(s, RateHit, key, limit, window, now)
                if locked_for is not None:
                    raise RateLimited("Too many requests", locked_for)
                s.add(RateHit(key=key, at=now))
            sent = cfg.email_allowed(email)
            if sent:
                code = rules.new_code()
                expires = now + timedelta(minutes=cfg.code_ttl_minutes)
                row = s.get(LoginCode, email, with_for_update=True)
                if row is None:
                    row = LoginCode(email=email)
                    s.add(row)
                row.code_hash = rules.hash_code(self.keys.code_key, email, code)
                row.expires_at = expires
                row.wrong_attempts = 0
                row.created_at = now
                uow.emit(LOGIN_CODE_ISSUED, actor=email, entity="user", entity_id=email, code=code,
                         expires_at=expires.isoformat(), ttl_minutes=cfg.code_ttl_minutes)
            uow.commit()
        return {"sent": sent}

    @rpc
    def verify_code(self, email: str, code: str, client_address: Optional[str] = None) -> dict:
        """Start a session for a right code. Wrong codes count against the address and the client
        address (from the gateway) across codes; at the limit, 429 until the window frees a try."""
        email = normalize_email(email)
        cfg = self.settings
        window = timedelta(hours=cfg.verify_failure_window_hours)
        now = utcnow()
        keys = [(f"email:{email}", cfg.verify_failures_per_email)]
        if client_address:  # None only from a gateway older than this service (during a rollout)
            keys.append((f"client:{client_address}", cfg.verify_failures_per_client))
        with self.db.uow() as uow:
            s = uow.session
            # The failure counts are checked and written under per-key locks held to the commit,
            # so concurrent verifies on any replica cannot get more tries than the limit.
            for key, limit in keys:
                locked_for = lock_and_check(s, VerifyFailure, key, limit, window, now)
                if locked_for is not None:
                    raise RateLimited("Too many requests", locked_for)
            row = s.get(LoginCode, email, with_for_update=True)
            if row is None or row.expires_at <= now:
                raise InvalidCode(CODE_GONE)
            if row.wrong_attempts >= rules.MAX_WRONG_ATTEMPTS:
                raise InvalidCode(CODE_EXHAUSTED)
            if not rules.code_matches(self.keys.code_key, email, str(code), row.code_hash):
                row.wrong_attempts += 1
                exhausted = row.wrong_attempts >= rules.MAX_WRONG_ATTEMPTS
                s.add_all([VerifyFailure(key=key, at=now) for key, _ in keys])
                uow.commit()
                raise InvalidCode(CODE_EXHAUSTED if exhausted else CODE_WRONG)
            s.delete(row)  # single use
            user = s.get(User, email, with_for_update=True)
            if user is None:
                user = User(email=email, role=rules.DEFAULT, role_offices=[], auto_approved=False)
                s.add(user)
            user.last_login_at = now
            token = rules.new_token()
            session_id = rules.session_id_for(token)
            expires = now + timedelta(hours=self.settings.session_hours)
            s.add(Session(id=session_id, email=email, created_at=now, expires_at=expires))
            uow.emit(USER_SIGNED_IN, actor=email, entity="user", entity_id=email,
                     after={"session_expires_at": expires.isoformat()})
            s.flush()
            view = self._view(user, email)
            uow.commit()
        return {"token": token, "session_id": session_id, "expires_at": expires.isoformat(), "user": view}

    # ---------------------------------------------------------------- sessions

    @rpc
    def get_session(self, session_id: str) -> Optional[dict]:
        with self.db.uow() as uow:
            row = uow.session.get(Session, session_id)
            if row is None or row.expires_at <= utcnow():
                return None
            user = uow.session.get(User, row.email)
            return {"session_id": row.id, "email": row.email, "expires_at": row.expires_at.isoformat(),
                    "user": self._view(user, row.email)}

    @command
    def logout(self, session_id: str) -> None:
        with self.db.uow() as uow:
            row = uow.session.get(Session, session_id, with_for_update=True)
            if row is None:
                return None
            uow.session.delete(row)
            uow.emit(SESSION_REVOKED, actor=row.email, entity="session", entity_id=session_id[:12],
                     session_id=session_id, email=row.email)
            uow.commit()
        return None

    # ---------------------------------------------------------------- users

    @rpc
    def get_user(self, email: str) -> dict:
        email = normalize_email(email)
        if not self.settings.email_allowed(email):
            raise UserNotFound("Not Found")
        with self.db.uow() as uow:
            return self._view(uow.session.get(User, email), email)

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
        admins = list(self.settings.system_admin_emails)
        office_admin = and_(User.role == rules.OFFICE_ADMIN,
                            func.coalesce(func.cardinality(User.role_offices), 0) > 0)
        query = select(User).order_by(User.email).limit(limit + 1)
        if role == rules.SYSTEM_ADMIN:
            query = query.where(User.email.in_(admins))
        elif role == rules.OFFICE_ADMIN:
            query = query.where(office_admin, User.email.not_in(admins))
        elif role == rules.DEFAULT:
            query = query.where(not_(office_admin), User.email.not_in(admins))
        elif role not in (None, ""):
            raise InvalidUserQuery("Invalid role: use Default, Office Admin or System Admin")
        if custom is not None:
            query = query.where(User.quota.is_not(None) if custom else User.quota.is_(None))
        if auto is not None:
            query = query.where(User.auto_approved.is_(auto))
        if email_prefix:
            query = query.where(User.email.startswith(normalize_email(str(email_prefix)), autoescape=True))
        if after is not None:
            query = query.where(User.email > after)
        with self.db.uow() as uow:
            rows = uow.session.scalars(query).all()
            page = rows[:limit]
            users = [self._view(u, u.email) for u in page]
            next_cursor = rules.encode_user_cursor(page[-1].email) if len(rows) > limit else None
        return {"users": users, "next_cursor": next_cursor}

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
        with self.db.uow() as uow:
            s = uow.session
            created = s.execute(
                insert(User).values(email=email, role=rules.DEFAULT, role_offices=[], auto_approved=False,
                                    created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["email"]).returning(User.email)
            ).first() is not None
            user = s.scalars(select(User).where(User.email == email).with_for_update()
                             .execution_options(populate_existing=True)).one()
            before = None if created else rules.profile(user.quota, user.role, user.role_offices, user.auto_approved)
            try:
                after = rules.apply_update(self.settings, email, before or rules.DEFAULT_PROFILE, update, fields,
                                           existing)
            except rules.UpdateRejected as exc:
                raise InvalidUserUpdate(str(exc)) from None
            user.quota, user.role = after["quota"], after["role"]
            user.role_offices, user.auto_approved = after["offices"], after["auto_approved"]
            if after != before:
                uow.emit(USER_CHANGED, actor=actor, entity="user", entity_id=email, before=before, after=after,
                         email=email)
            s.flush()
            view = self._view(user, email)
            uow.commit()
        return view

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
        with self.db.uow() as uow:
            s = uow.session
            user = s.scalars(select(User).where(User.email == email).with_for_update()).first()
            before = rules.profile(user.quota, user.role, user.role_offices, user.auto_approved) if user else None
            if user is not None:
                s.delete(user)
            sessions = s.scalars(select(Session).where(Session.email == email).with_for_update()).all()
            for row in sessions:
                s.delete(row)
                uow.emit(SESSION_REVOKED, actor=actor, entity="session", entity_id=row.id[:12],
                         session_id=row.id, email=email)
            s.execute(delete(LoginCode).where(LoginCode.email == email))
            s.execute(delete(RateHit).where(RateHit.key == f"email:{email}"))
            s.execute(delete(VerifyFailure).where(VerifyFailure.key == f"email:{email}"))
            uow.emit(USER_ERASED, actor=actor, entity="user", entity_id=pseudonym, before=before, after=None,
                     email=email, pseudonym=pseudonym)
            uow.commit()
        return {"pseudonym": pseudonym, "sessions": len(sessions)}

    # ---------------------------------------------------------------- housekeeping

    def _view(self, user: Optional[User], email: str) -> dict:
        ids = self.office_ids.get(self.offices_rpc) if self.settings.is_system_admin(email) else []
        if user is None:
            return rules.user_view(self.settings, email, None, None, [], False, ids)
        return rules.user_view(self.settings, email, user.quota, user.role, list(user.role_offices or []),
                               user.auto_approved, ids)

    @timer(interval=300)
    def purge_expired(self) -> None:
        purge_expired(self.db, self.settings, utcnow())


def lock_and_check(s, model, key: str, limit: int, window: timedelta, now: datetime) -> Optional[int]:
    """Take the key's transaction-scoped advisory lock (held to commit or rollback: concurrent
    callers on any replica wait here, so none can slip under the limit), then count the key's rows
    of `model` (RateHit, VerifyFailure) in the window: seconds to wait, or None."""
    lock = key if model is RateHit else f"{model.__tablename__}:{key}"  # rate_hits: the name it always had
    s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": lock})
    count, oldest = s.execute(
        select(func.count(), func.min(model.at)).where(model.key == key, model.at > now - window)
    ).one()
    return rules.retry_after(count, oldest, limit, window, now)


def purge_expired(db: Db, settings: AppConfig, now: datetime) -> dict:
    """Expired codes, sessions and old rate-limit hits are deleted (retention, SPEC §4)."""
    window = timedelta(minutes=settings.code_request_window_minutes)
    verify_window = timedelta(hours=settings.verify_failure_window_hours)
    with db.uow() as uow:
        purged = {
            "codes": uow.session.execute(delete(LoginCode).where(LoginCode.expires_at < now)).rowcount,
            "sessions": uow.session.execute(delete(Session).where(Session.expires_at < now)).rowcount,
            "rate_hits": uow.session.execute(delete(RateHit).where(RateHit.at < now - window)).rowcount,
            "verify_failures": uow.session.execute(
                delete(VerifyFailure).where(VerifyFailure.at < now - verify_window)).rowcount,
        }
        uow.commit()
    return purged


Service = IdentityService
