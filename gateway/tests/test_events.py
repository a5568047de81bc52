"""The gateway's event handlers (gateway/events.py) through its listener's dispatch."""
import logging

from gateway.events import GatewayEvents
from gateway.live import EventHub
from gateway.readmodel import Availability
from gateway.sessions import EventListener, SessionCache
from services.booking.contract import BOOKING_CREATED, DAY_CHANGED, USER_BOOKINGS_ERASED
from services.identity.contract import SESSION_REVOKED, USER_CHANGED
from services.offices.contract import OFFICE_UPDATED

OFFICE = {"id": "a", "name": "A", "quota": 5, "parking_quota": 1, "timezone": "Europe/London", "retired": False}
SESSION = {"session_id": "s1", "email": "u@my-company.example", "expires_at": "2999-01-01T00:00:00+00:00",
           "user": {"email": "u@my-company.example"}}


class Delivery:
    """What kombu hands the listener's callback: where the message came from, and its ack."""

    def __init__(self, spec):
        self.delivery_info = {"exchange": spec.exchange, "routing_key": spec.name}
        self.acked = False

    def ack(self):
        self.acked = True


def stack():
    fetched = []
    sessions = SessionCache(lambda sid: fetched.append(sid) or dict(SESSION))
    sessions.trusted = True
    availability = Availability(lambda: [dict(OFFICE)],
                                lambda office, dates: [{"date": d, "booked": 0, "booked_parking": 0, "version": 1}
                                                       for d in dates])
    availability.trusted = True
    hub = EventHub()
    listener = EventListener("amqp://nowhere:1/", GatewayEvents(sessions, availability, hub).handlers(),
                             lambda up: None)
    return listener, sessions, availability, hub, fetched


def deliver(listener, spec, payload) -> Delivery:
    message = Delivery(spec)
    listener._dispatch(payload, message)
    assert message.acked
    return message


def counts(n, version, day="2030-01-01"):
    return {"office": "a", "date": day, "booked": n, "booked_parking": 0, "version": version}


def test_the_listener_binds_one_handler_per_consumed_event():
    listener, *_ = stack()
    assert set(listener.handlers) == {
        ("identity", "session_revoked"), ("identity", "user_changed"), ("offices", "office_created"),
        ("offices", "office_updated"), ("booking", "booking_created"), ("booking", "booking_cancelled"), ("booking", "booking_released"),
        ("booking", "user_bookings_erased"), ("booking", "day_changed"), ("booking", "waitlist_joined"),
        ("booking", "waitlist_left"), ("booking", "waitlist_promoted"), ("booking", "waitlist_expired"),
        ("booking", "waitlist_cancelled"), ("booking", "ballot_drawn")}


def test_session_events_evict_the_cache():
    listener, sessions, _, _, fetched = stack()
    sessions.get("s1")
    sessions.get("s1")
    assert fetched == ["s1"]
    deliver(listener, SESSION_REVOKED, SESSION_REVOKED.build(actor=None, entity="session", entity_id="s1",
                                                             session_id="s1", email="u@my-company.example"))
    sessions.get("s1")
    assert fetched == ["s1", "s1"]
    deliver(listener, USER_CHANGED, USER_CHANGED.build(actor="admin@my-company.example", entity="user",
                                                       entity_id="u@my-company.example", email="u@my-company.example"))
    sessions.get("s1")
    assert fetched == ["s1", "s1", "s1"]


def test_office_and_booking_events_update_the_read_model_and_the_stream():
    listener, _, availability, hub, _ = stack()
    availability.offices()
    availability.slots("a", ["2030-01-01", "2030-01-02"])
    deliver(listener, OFFICE_UPDATED, OFFICE_UPDATED.build(actor="admin@my-company.example", entity="office",
                                                           entity_id="a", office="a", after={**OFFICE, "name": "Renamed"}))
    assert availability.office("a")["name"] == "Renamed"
    deliver(listener, BOOKING_CREATED, BOOKING_CREATED.build(
        actor="u@my-company.example", entity="booking", entity_id="b1", office="a", after={"id": "b1"},
        availability=counts(1, 2), office_timezone="Europe/London"))
    deliver(listener, USER_BOOKINGS_ERASED, USER_BOOKINGS_ERASED.build(
        actor="admin@my-company.example", entity="user", entity_id="erased-1",
        availability=[counts(0, 3), counts(4, 5, "2030-01-02")]))
    assert [s["booked"] for s in availability.slots("a", ["2030-01-01", "2030-01-02"])] == [0, 4]
    assert [e[1]["booked"] for e in hub.history] == [1, 0, 4]


def test_day_changed_sets_the_days_effective_capacity_in_version_order_and_streams_it():
    """SPEC §15: a day override reaches the slots (effective values: the override's where it sets
    them, else the office's) and the live stream; a late, older one never overwrites it."""
    listener, _, availability, hub, _ = stack()
    availability.offices()
    day = "2030-01-01"
    assert availability.slots("a", [day])[0] == {"date": day, "booked": 0, "booked_parking": 0, "quota": 5,
                                                  "parking_quota": 1, "closed": False, "note": None,
                                                  "draw_at": None}
    closed = {"quota": None, "parking_quota": 0, "closed": True, "note": "Boiler"}
    deliver(listener, DAY_CHANGED, DAY_CHANGED.build(
        actor="admin@my-company.example", entity="office_day", entity_id=f"a/{day}", office="a", after=closed,
        override=closed, availability=counts(2, 7)))
    assert availability.slots("a", [day])[0] == {"date": day, "booked": 2, "booked_parking": 0, "quota": 5,
                                                  "parking_quota": 0, "closed": True, "note": "Boiler",
                                                  "draw_at": None}
    assert hub.history[-1][1] == {"office": "a", "date": day, "booked": 2, "booked_parking": 0, "quota": 5,
                                  "parking_quota": 0, "closed": True, "note": "Boiler"}
    deliver(listener, DAY_CHANGED, DAY_CHANGED.build(  # an older change, delivered late
        actor="admin@my-company.example", entity="office_day", entity_id=f"a/{day}", office="a", after=None,
        override=None, availability=counts(2, 6)))
    assert availability.slots("a", [day])[0]["closed"] is True
    deliver(listener, BOOKING_CREATED, BOOKING_CREATED.build(  # a booking event keeps the override
        actor="u@my-company.example", entity="booking", entity_id="b1", office="a", after={"id": "b1"},
        availability=counts(3, 8), office_timezone="Europe/London"))
    assert availability.slots("a", [day])[0]["closed"] is True and availability.slots("a", [day])[0]["booked"] == 3
    deliver(listener, DAY_CHANGED, DAY_CHANGED.build(  # removed
        actor="admin@my-company.example", entity="office_day", entity_id=f"a/{day}", office="a", before=closed,
        override=None, availability=counts(3, 9)))
    assert availability.slots("a", [day])[0]["closed"] is False


def test_a_malformed_event_is_logged_at_error_acknowledged_and_changes_nothing(caplog):
    listener, sessions, _, _, fetched = stack()
    sessions.get("s1")
    with caplog.at_level(logging.INFO):
        deliver(listener, SESSION_REVOKED, {"event_id": "e-bad", "session_id": "s1"})  # no envelope
    sessions.get("s1")
    assert fetched == ["s1"]  # still cached: nothing was evicted
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "identity.session_revoked" in error.getMessage() and "e-bad" in error.getMessage()
