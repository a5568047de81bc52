"""Every error body carries a stable `code` (SPEC §18): one per kind, listed in the OpenAPI
document; the message stays exactly as SPEC words it."""
import importlib

import pytest
from flask import Flask

from gateway.errors import ERROR_CODES, REMOTE_ERRORS, ApiError, register_error_handlers
from obcommon.procs import SERVICES
from services.booking import exceptions as booking

# SPEC §4's table, rows 5-11 (decided by the booking service): message -> code.
BOOKING_RULES = {
    booking.OfficeNotFound: ("Office not found", "office_not_found"),
    booking.DateOutOfRange: ("Date out of range", "date_out_of_range"),
    booking.ReasonRequired: ("Reason to book required", "reason_required"),
    booking.DuplicateBooking: ("Can't have multiple bookings per day", "duplicate_booking"),
    booking.OfficeFull: ("Office quota exceeded", "office_full"),
    booking.ParkingFull: ("Office parking quota exceeded", "parking_full"),
    booking.UserQuotaExceeded: ("User quota exceeded", "user_quota_exceeded"),
}


def app_raising(exc: Exception) -> Flask:
    app = Flask(__name__)
    register_error_handlers(app)

    @app.get("/boom")
    def boom():
        raise exc

    return app


def answer(exc: Exception, method: str = "get"):
    response = getattr(app_raising(exc).test_client(), method)("/boom")
    return response.status_code, response.get_json()


@pytest.mark.parametrize("name", SERVICES)
def test_every_error_of_every_contract_has_a_listed_code(name):
    contract = importlib.import_module(f"services.{name}.contract").CONTRACT
    for error in contract.errors:
        assert error.code in ERROR_CODES, f"{error.__name__}.code = {error.code!r} is not in gateway/errors.py"


@pytest.mark.parametrize("error", list(BOOKING_RULES), ids=lambda e: e.__name__)
def test_a_booking_rejection_answers_its_message_and_its_own_code(error):
    message, code = BOOKING_RULES[error]
    status, body = answer(error())
    assert status == REMOTE_ERRORS[error]
    assert body["message"] == message and body["code"] == code and body["reference"]


def test_codes_are_distinct_per_rule():
    assert len({code for _, code in BOOKING_RULES.values()}) == len(BOOKING_RULES)


def test_gateway_errors_and_framework_errors_have_codes():
    assert answer(ApiError(403, "Forbidden"))[1]["code"] == "forbidden"
    status, body = answer(ApiError(503, "Service currently in read-only mode", code="read_only"))
    assert (status, body["message"], body["code"]) == (503, "Service currently in read-only mode", "read_only")
    status, body = answer(ApiError(400, "Bad request body", code="bad_request_body"))
    assert (status, body["message"], body["code"]) == (400, "Bad request body", "bad_request_body")
    status, body = answer(ApiError(401))
    assert (status, body["message"], body["code"]) == (401, "Unauthorized", "unauthorized")
    status, body = answer(KeyError("bug"))
    assert (status, body["message"], body["code"]) == (500, "Internal error", "internal_error")
    response = app_raising(KeyError()).test_client().post("/boom")  # werkzeug's 405
    assert response.status_code == 405 and response.get_json()["code"] == "method_not_allowed"
    response = app_raising(KeyError()).test_client().get("/nowhere")
    assert response.status_code == 404 and response.get_json() == {
        "message": "Not Found", "reference": response.get_json()["reference"], "code": "not_found"}


def test_an_unknown_code_is_refused_where_it_is_raised():
    with pytest.raises(AssertionError):
        ApiError(400, "Bad", code="made_up")


def test_the_openapi_document_lists_every_code():
    from gateway.tests.test_openapi_doc import document

    schema = document()["components"]["schemas"]["ErrorBody"]
    assert set(schema["required"]) == {"message", "reference", "code"}
    assert schema["properties"]["code"]["enum"] == list(ERROR_CODES)
