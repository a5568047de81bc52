"""A command RPC delivered again after its commit (the reply or the acknowledgement was lost, or
the process died before replying) answers what the first delivery committed."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from services.booking.exceptions import BookingNotFound, DuplicateBooking
from tests.support.redeliver import RawRpc


def day(offset: int) -> str:
    return (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=offset)).isoformat()


@pytest.fixture
def raw(stack):
    client = RawRpc(stack.amqp_uri)
    yield client
    client.close()


def user() -> str:
    return f"redeliver-{uuid.uuid4().hex[:8]}@my-company.example"


def test_a_redelivered_cancel_answers_success_not_404(raw):
    email = user()
    booking = raw.call("booking", "create_booking", {"user": email, "office": "alpha", "date": day(2)}, email)
    caller = {"email": email, "system_admin": False, "offices": []}
    call = uuid.uuid4().hex
    first = raw.call("booking", "cancel_booking", booking["id"], caller, correlation_id=call)
    again = raw.call("booking", "cancel_booking", booking["id"], caller, correlation_id=call)
    assert again == first == {"office": "alpha", "date": day(2)}
    # a new call (not a redelivery) still gets the rule's answer
    with pytest.raises(BookingNotFound):
        raw.call("booking", "cancel_booking", booking["id"], caller)


def test_a_redelivered_create_answers_the_booking_not_409(raw, stack):
    """create_booking is replayed by its Idempotency-Key (the web app always sends one)."""
    email = user()
    request = {"user": email, "office": "beta", "date": day(3), "parking": True}
    call, key = uuid.uuid4().hex, uuid.uuid4().hex
    first = raw.call("booking", "create_booking", request, email, key, correlation_id=call)
    again = raw.call("booking", "create_booking", request, email, key, correlation_id=call)
    assert again == first and first["status"] == "active"
    with psycopg.connect(stack.database_url) as conn:
        (count,) = conn.execute("SELECT count(*) FROM booking.bookings WHERE \"user\" = %s", (email,)).fetchone()
    assert count == 1
    with pytest.raises(DuplicateBooking):  # a genuine second request
        raw.call("booking", "create_booking", request, email)


def test_a_redelivered_rejection_is_the_same_rejection(raw):
    email = user()
    request = {"user": email, "office": "alpha", "date": day(4)}
    raw.call("booking", "create_booking", request, email)
    call, key = uuid.uuid4().hex, uuid.uuid4().hex
    with pytest.raises(DuplicateBooking):
        raw.call("booking", "create_booking", request, email, key, correlation_id=call)
    # cancel the booking: a fresh decision would now succeed, the redelivery must not
    [booking] = [b for b in raw.call("booking", "list_bookings", user=email)]
    raw.call("booking", "cancel_booking", booking["id"], {"email": email, "system_admin": False, "offices": []})
    with pytest.raises(DuplicateBooking):
        raw.call("booking", "create_booking", request, email, key, correlation_id=call)


def test_a_redelivered_create_under_the_gateways_request_id_answers_the_booking(raw, stack):
    """Without a client key the gateway names the call (`request_id`): a redelivery after the
    commit answers the booking made, not the 409 a fresh decision would give."""
    email = user()
    request = {"user": email, "office": "beta", "date": day(6)}
    call, request_id = uuid.uuid4().hex, f"gateway:{uuid.uuid4().hex}"
    first = raw.call("booking", "create_booking", request, email, None, request_id, correlation_id=call)
    again = raw.call("booking", "create_booking", request, email, None, request_id, correlation_id=call)
    assert again == first and first["status"] == "active"


def test_a_refusal_under_the_gateways_request_id_is_not_kept(raw, stack):
    """A refusal changed nothing and its caller never saw an answer to repeat: under a request id
    nothing is written for it, and the call delivered again is decided again."""
    email = user()
    request = {"user": email, "office": "alpha", "date": day(7)}
    raw.call("booking", "create_booking", request, email)
    call, request_id = uuid.uuid4().hex, f"gateway:{uuid.uuid4().hex}"
    with pytest.raises(DuplicateBooking):
        raw.call("booking", "create_booking", request, email, None, request_id, correlation_id=call)
    with psycopg.connect(stack.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM booking.idempotency_keys WHERE key = %s",
                            (request_id,)).fetchone() == (0,)
    [booking] = raw.call("booking", "list_bookings", user=email)
    raw.call("booking", "cancel_booking", booking["id"], {"email": email, "system_admin": False, "offices": []})
    again = raw.call("booking", "create_booking", request, email, None, request_id, correlation_id=call)
    assert again["status"] == "active" and again["id"] != booking["id"]


def test_two_deliveries_at_once_run_the_command_once(raw, stack):
    email = user()
    request = {"user": email, "office": "alpha", "date": day(5)}
    call, key = uuid.uuid4().hex, uuid.uuid4().hex
    raw.send("booking", "create_booking", request, email, key, correlation_id=call)
    raw.send("booking", "create_booking", request, email, key, correlation_id=call)
    replies = [raw.reply(call), raw.reply(call)]
    assert [r["error"] for r in replies] == [None, None]
    assert replies[0]["result"] == replies[1]["result"]
