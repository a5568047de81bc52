"""Identity persistence: every SQL statement of the service, one transaction per function, with
its events in the outbox. `service.py` is the entry points; the rules (codes, roles, views,
cursors, limits) are pure functions in `rules.py`.

`view(user, email)` is the service's User view (it may ask offices for a System Admin's offices),
passed in so that the answer is built inside the same transaction, as before."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, not_, select, text
from sqlalchemy.dialects.postgresql import insert

from obcommon.config import AppConfig
from obcommon.db import forget_answers_naming, utcnow
from obcommon.service import Db

from . import rules
from .contract import LOGIN_CODE_ISSUED, SESSION_REVOKED, USER_CHANGED, USER_ERASED, USER_SIGNED_IN
from .exceptions import (
    AccountDisabled,
    InvalidCode,
    InvalidUserQuery,
    InvalidUserUpdate,
    RateLimited,
    UserExists,
    UserNotFound,
)
from .models import Base, LoginCode, RateHit, Session, User, VerifyFailure

View = Callable[[User | None, str], dict]

CODE_GONE = "Code expired or already used: request a new code"
CODE_WRONG = "Incorrect code"
CODE_EXHAUSTED = "Too many wrong attempts: request a new code"


# ------------------------------------------------------------------------------ login codes


def request_code(db: Db, cfg: AppConfig, code_key: bytes, email: str, client_address: str, now: datetime) -> bool:
    """Rate-limit (per address and per client), then issue a code if the address is allowed.
    Returns whether a code was sent."""
    window = timedelta(minutes=cfg.code_request_window_minutes)
    with db.uow() as uow:
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
            row.code_hash = rules.hash_code(code_key, email, code)
            row.expires_at = expires
            row.wrong_attempts = 0
            row.created_at = now
            uow.emit(LOGIN_CODE_ISSUED, actor=email, entity="user", entity_id=email, code=code,
                     expires_at=expires.isoformat(), ttl_minutes=cfg.code_ttl_minutes)
        uow.commit()
    return sent


def verify_code(db: Db, cfg: AppConfig, code_key: bytes, email: str, code: str, client_address: str | None,
                now: datetime, view: View) -> dict:
    """Start a session for a right code. Wrong codes count against the address and the client
    address across codes; at the limit, RateLimited until the window frees a try."""
    window = timedelta(hours=cfg.verify_failure_window_hours)
    keys = [(f"email:{email}", cfg.verify_failures_per_email)]
    if client_address:  # None only from a gateway older than this service (during a rollout)
        keys.append((f"client:{client_address}", cfg.verify_failures_per_client))
    with db.uow() as uow:
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
        if not rules.code_matches(code_key, email, str(code), row.code_hash):
            row.wrong_attempts += 1
            exhausted = row.wrong_attempts >= rules.MAX_WRONG_ATTEMPTS
            s.add_all([VerifyFailure(key=key, at=now) for key, _ in keys])
            uow.commit()
            raise InvalidCode(CODE_EXHAUSTED if exhausted else CODE_WRONG)
        s.delete(row)  # single use
        user = s.get(User, email, with_for_update=True)
        if user is not None and not user.active:  # SPEC §16: the code is used up, no session
            uow.commit()
            raise AccountDisabled("Account disabled")
        if user is None:
            user = User(email=email, role=rules.DEFAULT, role_offices=[], auto_approved=False, scim_id=_new_id())
            s.add(user)
        started = _start_session(uow, cfg, user, now, "otac")
        user_view = view(user, email)
        uow.commit()
    return {**started, "user": user_view}


def _new_id() -> str:
    return uuid.uuid4().hex


def _start_session(uow, cfg: AppConfig, user: User, now: datetime, method: str) -> dict:
    """A new session of `user` (its token is returned once; only its hash is stored)."""
    user.last_login_at = now
    token = rules.new_token()
    session_id = rules.session_id_for(token)
    expires = now + timedelta(hours=cfg.session_hours)
    uow.session.add(Session(id=session_id, email=user.email, created_at=now, expires_at=expires))
    uow.emit(USER_SIGNED_IN, actor=user.email, entity="user", entity_id=user.email,
             after={"session_expires_at": expires.isoformat(), "method": method})
    uow.session.flush()
    return {"token": token, "session_id": session_id, "expires_at": expires.isoformat()}


def lock_and_check(s, model, key: str, limit: int, window: timedelta, now: datetime) -> int | None:
    """Take the key's transaction-scoped advisory lock (held to commit or rollback: concurrent
    callers on any replica wait here, so none can slip under the limit), then count the key's rows
    of `model` (RateHit, VerifyFailure) in the window: seconds to wait, or None."""
    lock = key if model is RateHit else f"{model.__tablename__}:{key}"  # rate_hits: the name it always had
    s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": lock})
    count, oldest = s.execute(
        select(func.count(), func.min(model.at)).where(model.key == key, model.at > now - window)
    ).one()
    return rules.retry_after(count, oldest, limit, window, now)


# ------------------------------------------------------------------------------ sessions


def get_session(db: Db, session_id: str, now: datetime, view: View) -> dict | None:
    with db.uow() as uow:
        row = uow.session.get(Session, session_id)
        if row is None or row.expires_at <= now:
            return None
        user = uow.session.get(User, row.email)
        return {"session_id": row.id, "email": row.email, "expires_at": row.expires_at.isoformat(),
                "user": view(user, row.email)}


def logout(db: Db, session_id: str) -> None:
    with db.uow() as uow:
        row = uow.session.get(Session, session_id, with_for_update=True)
        if row is None:
            return None
        uow.session.delete(row)
        uow.emit(SESSION_REVOKED, actor=row.email, entity="session", entity_id=session_id[:12],
                 session_id=session_id, email=row.email)
        uow.commit()
    return None


# ------------------------------------------------------------------------------ users


def get_user(db: Db, email: str, view: View) -> dict:
    with db.uow() as uow:
        return view(uow.session.get(User, email), email)


def list_users(db: Db, system_admins: list[str], role, custom: bool | None, auto: bool | None,
               email_prefix: str | None, limit: int, after: str | None, view: View) -> dict:
    """Stored profiles (signed in at least once, or prepared by an admin), by email, a page of
    `limit` after the email `after`."""
    office_admin = and_(User.role == rules.OFFICE_ADMIN, func.coalesce(func.cardinality(User.role_offices), 0) > 0)
    query = select(User).order_by(User.email).limit(limit + 1)
    if role == rules.SYSTEM_ADMIN:
        query = query.where(User.email.in_(system_admins))
    elif role == rules.OFFICE_ADMIN:
        query = query.where(office_admin, User.email.not_in(system_admins))
    elif role == rules.DEFAULT:
        query = query.where(not_(office_admin), User.email.not_in(system_admins))
    elif role not in (None, ""):
        raise InvalidUserQuery("Invalid role: use Default, Office Admin or System Admin")
    if custom is not None:
        query = query.where(User.quota.is_not(None) if custom else User.quota.is_(None))
    if auto is not None:
        query = query.where(User.auto_approved.is_(auto))
    if email_prefix:
        query = query.where(User.email.startswith(email_prefix, autoescape=True))
    if after is not None:
        query = query.where(User.email > after)
    with db.uow() as uow:
        rows = uow.session.scalars(query).all()
        page = rows[:limit]
        users = [view(u, u.email) for u in page]
        next_cursor = rules.encode_user_cursor(page[-1].email) if len(rows) > limit else None
    return {"users": users, "next_cursor": next_cursor}


def update_user(db: Db, cfg: AppConfig, email: str, update, fields: set[str], existing: set[str] | None,
                actor: str, view: View) -> dict:
    """Apply `rules.apply_update` to the stored profile (created, "prepared", if need be), under
    the user row's lock; `user_changed` only when something changed."""
    with db.uow() as uow:
        s = uow.session
        created = s.execute(
            insert(User).values(email=email, role=rules.DEFAULT, role_offices=[], auto_approved=False,
                                created_at=utcnow(), scim_id=_new_id(), active=True)
            .on_conflict_do_nothing(index_elements=["email"]).returning(User.email)
        ).first() is not None
        user = s.scalars(select(User).where(User.email == email).with_for_update()
                         .execution_options(populate_existing=True)).one()
        before = None if created else _profile(user)
        try:
            after = rules.apply_update(cfg, email, before or _profile(user), update, fields, existing)
        except rules.UpdateRejected as exc:
            raise InvalidUserUpdate(str(exc)) from None
        user.quota, user.role = after["quota"], after["role"]
        user.role_offices, user.auto_approved = after["offices"], after["auto_approved"]
        if after != before:
            uow.emit(USER_CHANGED, actor=actor, entity="user", entity_id=email, before=before, after=after,
                     email=email)
        s.flush()
        user_view = view(user, email)
        uow.commit()
    return user_view


def erase_user(db: Db, email: str, actor: str, pseudonym: str) -> int:
    """Profile, sessions (a `session_revoked` each), login code and rate-limit hits go, with
    `user_erased`, in one transaction. Returns how many sessions went."""
    with db.uow() as uow:
        s = uow.session
        user = s.scalars(select(User).where(User.email == email).with_for_update()).first()
        before = _profile(user) if user else None
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
        forget_answers_naming(s, Base, email)  # answers of earlier commands about the user
        uow.emit(USER_ERASED, actor=actor, entity="user", entity_id=pseudonym, before=before, after=None,
                 email=email, pseudonym=pseudonym)
        uow.commit()
    return len(sessions)


def _profile(user: User) -> dict:
    return rules.profile(user.quota, user.role, user.role_offices, user.auto_approved, user.active)


# ------------------------------------------------------------------------------ the identity provider (SPEC §16)


def oidc_sign_in(db: Db, cfg: AppConfig, email: str, groups: list[str] | None, existing: set[str] | None,
                 now: datetime, view: View) -> dict:
    """A session for someone the identity provider signed in (the gateway checked the ID token and
    the address). With `oidc.group_offices` configured (`existing`: the office ids, else None), the
    user's Office Admin offices are set from their groups at every sign-in (none: Default). A
    disabled account gets AccountDisabled."""
    with db.uow() as uow:
        s = uow.session
        s.execute(insert(User).values(email=email, role=rules.DEFAULT, role_offices=[], auto_approved=False,
                                      created_at=now, scim_id=_new_id(), active=True)
                  .on_conflict_do_nothing(index_elements=["email"]))
        user = s.scalars(select(User).where(User.email == email).with_for_update()
                         .execution_options(populate_existing=True)).one()
        if not user.active:
            raise AccountDisabled("Account disabled")
        if existing is not None and cfg.oidc is not None:
            offices = rules.group_offices(cfg.oidc.group_offices or {}, groups, existing)
            before = _profile(user)
            user.role, user.role_offices = (rules.OFFICE_ADMIN, offices) if offices else (rules.DEFAULT, [])
            after = _profile(user)
            if after != before:
                user.updated_at = now
                uow.emit(USER_CHANGED, actor="oidc", entity="user", entity_id=email, before=before, after=after,
                         email=email)
        started = _start_session(uow, cfg, user, now, "oidc")
        user_view = view(user, email)
        uow.commit()
    return {**started, "user": user_view}


def account_json(user: User) -> dict:
    """A provisioned account as SCIM sees it (`gateway/scim.py` renders the SCIM User)."""
    return {"id": user.scim_id, "email": user.email, "active": user.active, "external_id": user.external_id,
            "display_name": user.display_name, "created_at": user.created_at.isoformat(),
            "updated_at": (user.updated_at or user.created_at).isoformat(), "resource": user.scim_resource or {}}


def get_account(db: Db, account_id: str) -> dict:
    with db.uow() as uow:
        user = uow.session.scalars(select(User).where(User.scim_id == account_id)).first()
        if user is None:
            raise UserNotFound("Not Found")
        return account_json(user)


ACCOUNT_FILTERS = {"userName": User.email, "externalId": User.external_id, "id": User.scim_id,
                   "displayName": User.display_name}


def list_accounts(db: Db, attribute: str | None, value, start: int, count: int) -> dict:
    """Accounts by email, optionally where one attribute equals `value` (`active` a boolean; the
    others as SCIM compares them: userName case-insensitively), `count` from the `start`-th (1-based)."""
    query = select(User)
    if attribute == "active":
        query = query.where(User.active.is_(bool(value)))
    elif attribute == "userName":
        query = query.where(User.email == str(value).strip().lower())
    elif attribute is not None:
        query = query.where(ACCOUNT_FILTERS[attribute] == str(value))
    with db.uow() as uow:
        s = uow.session
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.scalars(query.order_by(User.email).offset(max(start, 1) - 1).limit(max(count, 0))).all()
        return {"total": total, "accounts": [account_json(u) for u in rows]}


def create_account(db: Db, email: str, active: bool, external_id: str | None, display_name: str | None,
                   actor: str, now: datetime, resource: dict | None = None) -> dict:
    """SCIM create: a new profile (Default role). An address that already has one is UserExists."""
    with db.uow() as uow:
        s = uow.session
        created = s.execute(insert(User).values(
            email=email, role=rules.DEFAULT, role_offices=[], auto_approved=False, created_at=now, scim_id=_new_id(),
            active=active, disabled_at=None if active else now, external_id=external_id, display_name=display_name,
            updated_at=now, scim_resource=resource).on_conflict_do_nothing(index_elements=["email"]).returning(User.email)).first()
        if created is None:
            raise UserExists(f"User already exists: {email}")
        user = s.get(User, email)
        uow.emit(USER_CHANGED, actor=actor, entity="user", entity_id=email, before=None, after=_profile(user),
                 email=email)
        uow.commit()
        return account_json(user)


def replace_account(db: Db, account_id: str, active: bool, external_id: str | None, display_name: str | None,
                    actor: str, now: datetime, email: str | None = None, resource: dict | None = None) -> dict:
    """SCIM replace (PUT, or a PATCH applied by the gateway): active, externalId, displayName.
    Disabling revokes every session (a `session_revoked` each: every gateway replica drops them at
    once) and `user_changed` (active false) makes booking cancel the user's future bookings,
    requests, waitlist entries and regular days. The email (userName) cannot change."""
    with db.uow() as uow:
        s = uow.session
        user = s.scalars(select(User).where(User.scim_id == account_id).with_for_update()).first()
        if user is None:
            raise UserNotFound("Not Found")
        if email is not None and email != user.email:
            raise InvalidUserUpdate("userName cannot change: it is the user's email address")
        before = _profile(user)
        user.external_id, user.display_name = external_id, display_name
        if resource is not None:
            user.scim_resource = resource
        if user.active != active:
            user.active, user.disabled_at = active, (None if active else now)
            if not active:
                for row in s.scalars(select(Session).where(Session.email == user.email).with_for_update()):
                    s.delete(row)
                    uow.emit(SESSION_REVOKED, actor=actor, entity="session", entity_id=row.id[:12],
                             session_id=row.id, email=user.email)
        user.updated_at = now
        after = _profile(user)
        if after != before:
            uow.emit(USER_CHANGED, actor=actor, entity="user", entity_id=user.email, before=before, after=after,
                     email=user.email)
        s.flush()
        result = account_json(user)
        uow.commit()
        return result


def account_email(db: Db, account_id: str) -> str:
    with db.uow() as uow:
        email = uow.session.scalars(select(User.email).where(User.scim_id == account_id)).first()
        if email is None:
            raise UserNotFound("Not Found")
        return email


# ------------------------------------------------------------------------------ retention


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
