"""Administration routes (SPEC §1, §3, §6, §8, §9): offices (create, edit, retire), stats, the
audit log, and the deployment self-test. Every check of the caller's rights is here, at the edge;
the services decide the rest."""
from __future__ import annotations

import csv
import hmac
import io
import logging

from flask import Response, g, jsonify, request

from services.booking import exceptions as booking_errors

from .api import bookable_dates, endpoint, ob, rpc
from .auth import Caller, current_caller
from .bookings import parse_date
from .errors import ApiError
from .schemas import (
    AuditPage,
    AuditQuery,
    ErrorBody,
    Office,
    OfficeCreate,
    OfficeUpdate,
    SelftestResponse,
    StatsQuery,
    StatsResponse,
)

log = logging.getLogger("gateway.admin")

SELFTEST_ACTOR = "selftest"
SELFTEST_REASON = "Automated self-test of the deployment: booked and cancelled at once"
SELFTEST_MAX_ATTEMPTS = 10


def is_admin(caller: Caller) -> bool:
    return caller.is_admin


def is_system_admin(caller: Caller) -> bool:
    return bool(caller.permissions["can_manage_all_bookings"])


def can_manage_offices(caller: Caller) -> bool:
    return bool(caller.permissions["can_manage_offices"])


# ------------------------------------------------------------------ offices (System Admin)


@endpoint("/offices", "POST", "Create an office (System Admin)", write=True, body=OfficeCreate, field_errors=True,
          allow=can_manage_offices, responses={201: Office, 400: ErrorBody, 403: ErrorBody, 409: ErrorBody})
def create_office():
    caller = current_caller()
    fields = g.body.model_dump(include=g.body.model_fields_set)
    with rpc() as services:
        office = services.offices.create_office(fields, caller.email, with_version=True)
    _seen_here(office)
    return jsonify(office), 201


@endpoint("/offices/<office_id>", "PUT", "Edit an office: name, quotas, time zone, retired (System Admin)",
          write=True, body=OfficeUpdate, field_errors=True, allow=can_manage_offices,
          responses={200: Office, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def update_office(office_id: str):
    caller = current_caller()
    changes = g.body.model_dump(include=g.body.model_fields_set)
    with rpc() as services:
        office = services.offices.update_office(office_id, changes, caller.email, with_version=True)
    _seen_here(office)
    return jsonify(office)


@endpoint("/offices/<office_id>", "DELETE", "Retire an office: no new bookings, history kept (System Admin)",
          write=True, allow=can_manage_offices, responses={204: None, 403: ErrorBody, 404: ErrorBody})
def retire_office(office_id: str):
    caller = current_caller()
    with rpc() as services:
        office = services.offices.update_office(office_id, {"retired": True}, caller.email, with_version=True)
    _seen_here(office)
    return "", 204


def _seen_here(office: dict) -> None:
    """Read-your-writes on this replica: the changed office (and its revision, which the answer
    leaves out: SPEC §9's fields only) into the read model before its event arrives."""
    ob().availability.on_office_event({"after": office, "version": office.pop("version")})


# ------------------------------------------------------------------ stats (admins)


def visible_offices(services, caller: Caller) -> list[str]:
    """The ids of the offices the caller manages, in the offices' order (retired ones too: their
    history stays visible)."""
    offices = services.offices.list_offices(include_retired=True)
    if is_system_admin(caller):
        return [o["id"] for o in offices]
    managed = set(caller.permissions["offices_can_manage"])
    return [o["id"] for o in offices if o["id"] in managed]


@endpoint("/stats", "GET", "Bookings and parking per office and day (admins: the offices they manage); "
          "?format=csv for a file", query=StatsQuery, allow=is_admin,
          responses={200: {"description": "every office x day of the range, zeros included",
                           "content": {"application/json": StatsResponse, "text/csv": {"type": "string"}}},
                     400: ErrorBody, 403: ErrorBody})
def get_stats():
    caller = current_caller()
    q: StatsQuery = g.query
    date_from, date_to = parse_date(q.from_), parse_date(q.to)
    with rpc() as services:
        scope = visible_offices(services, caller)
        rows = services.booking.stats(offices=scope, date_from=date_from, date_to=date_to) if scope else []
    if q.format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["office", "date", "bookings", "parking", "checked_in", "released"])  # SPEC §11 appends two
        for row in rows:
            writer.writerow([row["office"], row["date"], row["bookings"], row["parking"], row.get("checked_in", 0),
                             row.get("released", 0)])
        days = sorted({row["date"] for row in rows})
        name = f"office-booker-stats-{days[0]}-to-{days[-1]}.csv" if days else "office-booker-stats.csv"
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return jsonify({"office_dates": rows})


# ------------------------------------------------------------------ audit (admins)


@endpoint("/audit", "GET", "The change history, newest first (Office Admins: their offices' records)",
          query=AuditQuery, allow=is_admin, responses={200: AuditPage, 400: ErrorBody, 403: ErrorBody})
def list_audit():
    caller = current_caller()
    q: AuditQuery = g.query
    scope = None
    if not is_system_admin(caller):
        scope = list(caller.permissions["offices_can_manage"])
        if q.office and q.office not in scope:
            raise ApiError(403, "Forbidden")
    with rpc() as services:
        page = services.audit.list_records(actor=q.actor, offices=scope, office=q.office, date_from=q.from_,
                                           date_to=q.to, limit=q.limit, cursor=q.cursor)
    return jsonify(page)


# ------------------------------------------------------------------ self-test (key holders)


def _candidate_dates(office: dict) -> list[str]:
    """Tomorrow first, then the rest of the bookable window, today last (office time zone)."""
    days = list(bookable_dates(office))
    return days[1:] + days[:1]


@endpoint("/selftest", "POST", "Book and cancel a place for the configured selftest_user (header "
          "X-Selftest-Key); works in read-only mode", auth=False,
          responses={200: SelftestResponse, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody})
def selftest():
    """SPEC §8: an end-to-end check of a deployment: gateway, broker, the offices and booking
    services and booking's database, through a real booking and its cancellation. It does not
    wait for the events that follow (audit, mail); their consumers have their own alerts
    (queue backlog, consumers missing). It calls the booking service directly, not through the
    read-only gate, so it also works in read-only mode."""
    key = ob().env.selftest_key
    if not key:
        raise ApiError(404, "Not Found")
    sent = request.headers.get("X-Selftest-Key", "")
    if not hmac.compare_digest(sent.encode(), key.encode()):
        raise ApiError(403, "Forbidden")
    config = ob().config
    user = config.selftest_user
    attempts, last_problem = 0, "no active office"
    with rpc() as services:
        for office in services.offices.list_offices(include_retired=False):
            for slot in services.booking.get_slots(office["id"], _candidate_dates(office)):
                if slot["booked"] >= office["quota"] or attempts >= SELFTEST_MAX_ATTEMPTS:
                    continue
                attempts += 1
                request_ = {"user": user, "office": office["id"], "date": slot["date"], "parking": False,
                            "reason": SELFTEST_REASON if config.reason_to_book_required else None}
                try:
                    booking = services.booking.create_booking(request_, SELFTEST_ACTOR, None)
                except booking_errors.BookingError as exc:  # full, quota, a race: try the next day
                    last_problem = exc.message
                    continue
                try:
                    services.booking.cancel_booking(booking["id"], {"email": SELFTEST_ACTOR, "system_admin": True,
                                                                    "offices": []})
                except booking_errors.BookingError as exc:
                    log.error("self-test could not cancel its booking %s: %s", booking["id"], exc.message)
                    raise ApiError(503, "Self-test failed: could not cancel the test booking", code="selftest_failed") from None
                log.info("self-test booked and cancelled %s at %s on %s", user, office["id"], slot["date"])
                return jsonify(SelftestResponse(office=office["id"], user=user, bookings=1,
                                                date=slot["date"]).model_dump())
    log.error("self-test failed: could not book a place for %s (%s)", user, last_problem)
    raise ApiError(503, f"Self-test failed: could not book a place ({last_problem})", code="selftest_failed")
