"""Pure notify rules: message text and MIME, backoff, where mail goes."""
import base64
from email import message_from_bytes, policy

import pytest

from obcommon.config import Env
from services.notify import rules


def test_login_code_message_gives_code_and_validity():
    built = rules.build_login_code_message("office-booker@my-company.example", "ann@my-company.example", "012345", 10)
    msg = message_from_bytes(built.as_bytes(), policy=policy.default)  # as a mail client reads it
    assert msg["From"] == "office-booker@my-company.example"
    assert msg["To"] == "ann@my-company.example"
    assert msg["Subject"] == "Your Office Booker sign-in code"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "012345" in text  # leading zero kept
    assert "10 minutes" in text
    assert msg["Message-ID"].endswith("@my-company.example>")
    assert "1 minute " in rules.login_code_mail("1", 1)[1]


def test_message_round_trips_through_smtp_bytes_with_attachments():
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    msg = rules.build_message(
        "from@x.example", "to@x.example", "Booking confirmed", "See attached.",
        [{"filename": "booking.ics", "content_type": "text/calendar; method=PUBLISH; charset=utf-8", "content": ics},
         {"filename": "a.bin", "content_type": "application/octet-stream",
          "content": base64.b64encode(b"\x00\x01").decode()}],
        message_id=rules.message_id("abc:booking_confirmation", "from@x.example"))
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<ob.abc.booking_confirmation@x.example>"
    assert parsed.get_body(preferencelist=("plain",)).get_content().strip() == "See attached."
    parts = {p.get_filename(): p for p in parsed.iter_attachments()}
    assert parts["booking.ics"].get_content_type() == "text/calendar"
    assert parts["booking.ics"].get_param("method") == "PUBLISH"
    assert parts["booking.ics"].get_content().replace("\r\n", "\n") == ics.replace("\r\n", "\n")
    assert parts["a.bin"].get_content() == b"\x00\x01"


def test_message_id_is_stable_per_source_event():
    assert rules.message_id("e1", "a@b.example") == rules.message_id("e1", "a@b.example")
    assert rules.message_id("e1", "a@b.example") != rules.message_id("e2", "a@b.example")


@pytest.mark.parametrize("attempts, expected", [(0, 2), (1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (50, 300), (10**6, 300)])
def test_backoff_doubles_from_base_and_is_capped(attempts, expected):
    assert rules.backoff(attempts) == expected


def test_backoff_base_is_configurable():
    assert [rules.backoff(n, base=0.5) for n in (1, 2, 3, 4)] == [0.5, 1, 2, 4]


def _env(**values) -> Env:
    return Env.from_environ({k: v for k, v in values.items() if v is not None})


def test_route_prefers_smtp_host():
    route = rules.choose_route(_env(SMTP_HOST="mail.example", SMTP_PORT="2525", SMTP_USERNAME="u",
                                    SMTP_PASSWORD="hunter2", DEV_MAILBOX="127.0.0.1:1025"))
    assert (route.host, route.port, route.starttls, route.username, route.dev) == ("mail.example", 2525, True, "u", False)
    assert "hunter2" not in repr(route) and "hunter2" not in str(route)
    assert rules.choose_route(_env(SMTP_HOST="m", SMTP_STARTTLS="false")).starttls is False


def test_route_falls_back_to_dev_mailbox_then_to_the_log_in_development_only():
    route = rules.choose_route(_env(OB_MODE="development", DEV_MAILBOX="localhost:2025"))
    assert (route.host, route.port, route.starttls, route.username, route.dev) == ("localhost", 2025, False, None, True)
    assert rules.choose_route(_env(OB_MODE="development")) is None
    # SPEC §17: production (the default) never falls back to a mailbox or the log
    for env in (_env(DEV_MAILBOX="localhost:2025"), _env()):
        with pytest.raises(ValueError):
            rules.choose_route(env)


def test_parse_host_port():
    assert rules.parse_host_port("127.0.0.1:1025", 25) == ("127.0.0.1", 1025)
    assert rules.parse_host_port("mailbox", 1025) == ("mailbox", 1025)
    assert rules.parse_host_port("[::1]:2525", 25) == ("::1", 2525)
    assert rules.parse_host_port(":2525", 25) == ("127.0.0.1", 2525)


def test_non_ascii_subject_body_and_calendar_survive_the_wire():
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nLOCATION:Zürich Straße\r\nEND:VCALENDAR\r\n"
    msg = rules.build_message(
        "from@x.example", "to@x.example", "Booking confirmed: Zürich, 2030-01-02", "Office Zürich — see you.\n",
        [{"filename": "booking.ics", "content_type": "text/calendar; method=REQUEST; charset=utf-8", "content": ics}])
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Booking confirmed: Zürich, 2030-01-02"
    assert parsed.get_body(preferencelist=("plain",)).get_content() == "Office Zürich — see you.\n"
    (part,) = list(parsed.iter_attachments())
    assert part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST"
    assert part.get_content_charset() == "utf-8" and part.get_filename() == "booking.ics"
    assert part.get_content().replace("\r\n", "\n") == ics.replace("\r\n", "\n")
