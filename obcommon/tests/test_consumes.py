"""@consumes: one way to consume an event, in a nameko service and in the gateway's listener."""
import logging

from obcommon.service import consumes
from services.audit.rules import Envelope
from services.identity.contract import USER_ERASED
from services.identity.schemas import UserErased


class Consumer:
    def __init__(self):
        self.seen = []

    @consumes(USER_ERASED)
    def on_user_erased(self, event: UserErased) -> None:
        self.seen.append(event)

    @consumes(USER_ERASED, reader=Envelope, requeue_on_error=False)
    def envelope_only(self, event: Envelope) -> None:
        self.seen.append(event)


def erased(**fields) -> dict:
    return USER_ERASED.build(actor="admin@my-company.example", entity="user", entity_id="erased-1",
                             email="a@my-company.example", pseudonym="erased-1", **fields)


def test_it_is_a_nameko_event_handler_for_the_spec_that_requeues_failures():
    (entrypoint,) = Consumer.on_user_erased.nameko_entrypoints
    assert (entrypoint.source_service, entrypoint.event_type) == ("identity", "user_erased")
    assert entrypoint.requeue_on_error and entrypoint.reliable_delivery
    (other,) = Consumer.envelope_only.nameko_entrypoints
    assert not other.requeue_on_error  # nameko's options pass through
    assert Consumer.on_user_erased.event_spec is USER_ERASED  # what the gateway's listener binds to


def test_the_handler_gets_the_typed_event_and_fields_added_later_are_ignored():
    consumer = Consumer()
    consumer.on_user_erased({**erased(), "added_in_a_later_version": 1})
    (event,) = consumer.seen
    assert isinstance(event, UserErased)
    assert (event.email, event.pseudonym, event.actor) == ("a@my-company.example", "erased-1",
                                                           "admin@my-company.example")


def test_a_malformed_payload_is_logged_at_error_once_and_dropped(caplog):
    consumer = Consumer()
    payload = erased()
    del payload["email"]
    with caplog.at_level(logging.INFO):
        assert consumer.on_user_erased(payload) is None  # returns normally: acknowledged, not requeued
        consumer.on_user_erased("not an object")
        consumer.on_user_erased({**erased(), "type": "user_changed"})  # not the event it is routed as
    assert consumer.seen == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert "identity.user_erased" in errors[0].getMessage() and "email" in errors[0].getMessage()
    assert payload["event_id"] in errors[0].getMessage()


def test_a_reader_is_a_narrower_view_of_the_same_event():
    consumer = Consumer()
    payload = erased()
    del payload["email"]  # not part of the envelope
    consumer.envelope_only(payload)
    (event,) = consumer.seen
    assert type(event) is Envelope and event.entity_id == "erased-1"
