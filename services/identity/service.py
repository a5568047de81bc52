"""Identity: one-time-code login, sessions, users and roles (SPEC §1, §2)."""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Optional

from nameko.rpc import RpcProxy
from nameko.timer import timer
from sqlalchemy import delete, func, select, text

from obcommon.db import utcnow
from obcommon.emails import normalize_email
from obcommon.service import BaseService, Database, rpc

from . import rules
from .contract import LOGIN_CODE_ISSUED, SERVICE, SESSION_REVOKED, USER_SIGNED_IN
from .dependencies import Keys, OfficeIds
from .exceptions import InvalidCode, RateLimited, UserNotFound
from .models import Base, LoginCode, RateHit, Session, User

log = logging.getLogger(__name__)

CODE_GONE = "Code expired or already used: request a new code"
CODE_WRONG = "Incorrect code"
CODE_EXHAUSTED = "Too many wrong attempts: request a new code"


class IdentityService(BaseService):
    name = SERVICE

    db = Database(Base)
    keys = Keys()
    office_ids = OfficeIds()
    offices_rpc = RpcProxy("offices")

    # ---------------------------------------------------------------- login codes

    @rpc
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
                # Serialise requests per key so concurrent requests cannot all slip under the limit.
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
                count, oldest = s.execute(
                    select(func.count(), func.min(RateHit.at)).where(RateHit.key == key, RateHit.at > now - window)
                ).one()
                if count >= limit:
                    retry_after = max(1, math.ceil((oldest + window - now).total_seconds()))
                    raise RateLimited("Too many requests", retry_after)
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
    def verify_code(self, email: str, code: str) -> dict:
        email = normalize_email(email)
        now = utcnow()
        with self.db.uow() as uow:
            s = uow.session
            row = s.get(LoginCode, email, with_for_update=True)
            if row is None or row.expires_at <= now:
                raise InvalidCode(CODE_GONE)
            if row.wrong_attempts >= rules.MAX_WRONG_ATTEMPTS:
                raise InvalidCode(CODE_EXHAUSTED)
            if not rules.code_matches(self.keys.code_key, email, str(code), row.code_hash):
                row.wrong_attempts += 1
                exhausted = row.wrong_attempts >= rules.MAX_WRONG_ATTEMPTS
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

    @rpc
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

    # ---------------------------------------------------------------- housekeeping

    def _view(self, user: Optional[User], email: str) -> dict:
        ids = self.office_ids.get(self.offices_rpc) if self.settings.is_system_admin(email) else []
        if user is None:
            return rules.user_view(self.settings, email, None, None, [], False, ids)
        return rules.user_view(self.settings, email, user.quota, user.role, list(user.role_offices or []),
                               user.auto_approved, ids)

    @timer(interval=300)
    def purge_expired(self) -> None:
        """Expired codes, sessions and old rate-limit hits are deleted (retention, SPEC §4)."""
        now = utcnow()
        window = timedelta(minutes=self.settings.code_request_window_minutes)
        with self.db.uow() as uow:
            uow.session.execute(delete(LoginCode).where(LoginCode.expires_at < now))
            uow.session.execute(delete(Session).where(Session.expires_at < now))
            uow.session.execute(delete(RateHit).where(RateHit.at < now - window))
            uow.commit()


Service = IdentityService
