"""Audit rules: what of an event is kept, cursors and filters."""
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from services.audit import rules
from services.audit.dependencies import AUDITED_CONTRACTS, audited_events
from services.audit.exceptions import InvalidCursor, InvalidFilter
from services.booking.contract import BOOKING_CREATED
from services.identity.contract import LOGIN_CODE_ISSUED, USER_SIGNED_IN
from services.offices.contract import CONTRACT as OFFICES


def test_projection_keeps_the_envelope_and_drops_private_fields():
    payload = LOGIN_CODE_ISSUED.build(actor="ann@my-company.example", entity="user",
                                      entity_id="ann@my-company.example", code="123456",
                                      expires_at="2030-01-01T00:10:00+00:00", ttl_minutes=10)
    row = rules.project(payload)
    assert set(row) == {"event_id", "at", "service", "action", "actor", "entity", "entity_id", "office",
                        "before", "after"}
    assert row["action"] == "login_code_issued" and row["service"] == "identity"
    assert row["actor"] == "ann@my-company.example"
    assert "123456" not in repr(row)
    assert row["at"].tzinfo is not None


def test_projection_drops_fields_a_booking_event_might_carry():
    payload = BOOKING_CREATED.build(actor="a@x.example", entity="booking", entity_id="b1", office="alpha",
                                    after={"date": "2030-01-02"}, office_timezone="Europe/London",
                                    availability={"office": "alpha", "date": "2030-01-02", "booked": 1,
                                                  "booked_parking": 0, "version": 1},
                                    reason="secret reason", reason_required=True)
    row = rules.project(payload)
    assert "secret reason" not in repr(row)
    assert row["office"] == "alpha" and row["after"] == {"date": "2030-01-02"}


@pytest.mark.parametrize("payload", [None, "text", {}, {"event_id": "x", "type": "t"},
                                     {**USER_SIGNED_IN.build(entity="user", entity_id="u"), "at": "yesterday"}])
def test_projection_rejects_a_message_without_the_envelope(payload):
    with pytest.raises(rules.InvalidEvent):
        rules.project(payload)


def test_naive_and_offset_times_are_read_as_utc():
    assert rules.parse_at("2030-01-01T12:00:00") == datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert rules.parse_at("2030-01-01T13:00:00+01:00") == datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert rules.format_at(datetime(2030, 1, 1, 12, tzinfo=UTC)) == "2030-01-01T12:00:00Z"


def test_record_view():
    row = SimpleNamespace(id=7, at=datetime(2030, 1, 1, 12, 0, 0, 5, tzinfo=UTC), actor="a",
                          action="office_updated", entity="office", entity_id="alpha", office="alpha",
                          before={"quota": 1}, after={"quota": 2})
    assert rules.record_view(row) == {
        "id": "7", "at": "2030-01-01T12:00:00.000005Z", "actor": "a", "action": "office_updated",
        "entity": "office", "entity_id": "alpha", "office": "alpha", "before": {"quota": 1}, "after": {"quota": 2},
    }


def test_cursor_round_trip():
    at = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    cursor = rules.encode_cursor(at, 42)
    assert "|" not in cursor and "=" not in cursor
    assert rules.decode_cursor(cursor) == (at, 42)


@pytest.mark.parametrize("cursor", ["", "???", "bm9wZQ", 12, ["x"],
                                    rules.encode_cursor(datetime(2030, 1, 1, tzinfo=UTC), 1)[:-3],
                                    "MjAzMC0wMS0wMVQwMDowMDowMHwtMQ"])  # "2030-01-01T00:00:00|-1"
def test_invalid_cursor(cursor):
    with pytest.raises(InvalidCursor):
        rules.decode_cursor(cursor)


def test_time_range_is_inclusive_utc_days():
    start, end = rules.time_range("2030-01-01", "2030-01-02")
    assert start == datetime(2030, 1, 1, tzinfo=UTC)
    assert end == datetime(2030, 1, 3, tzinfo=UTC)
    assert rules.time_range(None, None) == (None, None)
    with pytest.raises(InvalidFilter):
        rules.time_range("2030-13-01", None)
    with pytest.raises(InvalidFilter):
        rules.time_range("2030-01-02", "2030-01-01")


def test_limit_is_clamped():
    assert rules.clamp_limit(None) == 50
    assert rules.clamp_limit(0) == 1
    assert rules.clamp_limit(1000) == 200
    assert rules.clamp_limit("3") == 3
    with pytest.raises(InvalidFilter):
        rules.clamp_limit("many")


def test_every_event_of_every_audited_contract_has_its_own_handler():
    from services.audit.service import AuditService

    assert "services.identity.contract" in AUDITED_CONTRACTS
    specs = audited_events()
    assert {s.name for s in OFFICES.events} <= {s.name for s in specs}
    for spec in specs:
        method = getattr(AuditService, rules.handler_name(spec.service, spec.name))
        (entrypoint,) = method.nameko_entrypoints
        assert (entrypoint.source_service, entrypoint.event_type) == (spec.service, spec.name)
        assert entrypoint.reliable_delivery and entrypoint.requeue_on_error


def test_every_service_contract_is_audited():
    from obcommon.procs import SERVICES
    from services.audit.dependencies import AUDITED_CONTRACTS

    assert set(AUDITED_CONTRACTS) == {f"services.{s}.contract" for s in SERVICES if s != "audit"}


# ------------------------------------------------------------------------------ erasure


def test_emails_in_a_record_and_their_substitution():
    row = {"actor": "A@my-company.example", "entity_id": "b1", "before": None,
           "after": {"user": "a@my-company.example", "office": {"id": "alpha"}, "note": "x a@my-company.example",
                     "list": ["c@my-company.example", 3]}}
    assert rules.emails_in(row) == {"a@my-company.example", "c@my-company.example", "x a@my-company.example"}
    swapped = rules.substitute(row, {"a@my-company.example": "erased-1"})
    assert swapped["actor"] == "erased-1" and swapped["after"]["user"] == "erased-1"
    assert swapped["after"]["note"] == "x a@my-company.example"  # whole values only
    assert swapped["after"]["list"] == ["c@my-company.example", 3] and swapped["entity_id"] == "b1"
    assert rules.substitute(row, {}) is row
