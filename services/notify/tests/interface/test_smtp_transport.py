"""SmtpTransport against a real SMTP peer (no service process needed)."""
import smtplib

import pytest

from services.notify import rules
from services.notify.dependencies import SmtpTransport
from tests.support.infra import free_port
from tests.support.smtp import SmtpPeer


@pytest.fixture
def peer():
    p = SmtpPeer(free_port()).start()  # offers neither STARTTLS nor AUTH
    yield p
    p.stop()


def test_sends_in_clear_when_the_server_offers_no_starttls(peer):
    msg = rules.build_login_code_message("ob@my-company.example", "t@my-company.example", "777777", 10)
    SmtpTransport(rules.Route("127.0.0.1", peer.port, starttls=True)).send(msg)
    assert "777777" in SmtpPeer.text(peer.wait_for("t@my-company.example")[0])


def test_never_sends_a_password_without_starttls(peer):
    msg = rules.build_login_code_message("ob@my-company.example", "t@my-company.example", "777777", 10)
    route = rules.Route("127.0.0.1", peer.port, starttls=True, username="u", password="secret")
    with pytest.raises(smtplib.SMTPNotSupportedError) as exc:
        SmtpTransport(route).send(msg)
    assert "secret" not in str(exc.value)
    assert peer.to("t@my-company.example") == []
