"""Users under /api/users (SPEC §1, §6, §9): list and search (admins), edit and erase (System
Admins). GET /api/users/{email} is in api.py. Identity decides every rule; the gateway checks the
caller's role first."""
from __future__ import annotations

from flask import g, jsonify

from obcommon.emails import normalize_email

from .api import endpoint, ob, rpc
from .auth import Caller, current_caller
from .schemas import ErrorBody, User, UserListQuery, UserPage, UserUpdate


def can_view_users(caller: Caller) -> bool:
    return bool(caller.permissions["can_view_users"])


def can_edit_users(caller: Caller) -> bool:
    return bool(caller.permissions["can_edit_users"])


@endpoint("/users", "GET", "Users with a profile, by email (admins); search by prefix, filter, paginate",
          query=UserListQuery, allow=can_view_users, responses={200: UserPage, 403: ErrorBody})
def list_users():
    q: UserListQuery = g.query
    with rpc() as services:
        page = services.identity.list_users(role=q.role, custom_quota=q.custom_quota, auto_approved=q.auto_approved,
                                            email_prefix=q.email_prefix, limit=q.limit, cursor=q.cursor)
    return jsonify(page)


@endpoint("/users/<email>", "PUT", "Change a user's quota, role and offices, auto-approval (System Admin); "
          "prepares a user never seen before", write=True, body=UserUpdate, field_errors=True, allow=can_edit_users,
          responses={200: User, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def update_user(email: str):
    caller = current_caller()
    changes = g.body.model_dump(include=g.body.model_fields_set)
    with rpc() as services:
        user = services.identity.update_user(normalize_email(email), changes, caller.email)
    return jsonify(user)


@endpoint("/users/<email>", "DELETE", "Erase a user: profile, sessions and bookings; pseudonym in the audit "
          "trail (System Admin)", write=True, allow=can_edit_users,
          responses={204: None, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def erase_user(email: str):
    caller = current_caller()
    email = normalize_email(email)
    with rpc() as services:
        services.identity.erase_user(email, caller.email)
    ob().sessions.evict_email(email)  # at once here; other replicas on session_revoked
    return "", 204
