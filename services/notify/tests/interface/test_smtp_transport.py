"""SmtpTransport against a real SMTP peer (no service process needed)."""
import smtplib
import socket

import pytest

from services.notify import rules
from services.notify.dependencies import NotConnected, SmtpTransport
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


def test_a_burst_of_mails_shares_one_connection_and_survives_a_dropped_one(peer):
    """One connection carries several mails; a connection the server dropped is replaced, so
    the next mail still goes (once); `close` ends the connection."""
    transport = SmtpTransport(rules.Route("127.0.0.1", peer.port, starttls=False))
    sessions = []
    real_connect = transport._connect

    def counting_connect():
        sessions.append(real_connect())
        return sessions[-1]

    transport._connect = counting_connect
    for i in range(3):
        transport.send(rules.build_login_code_message("ob@my-company.example", f"b{i}@my-company.example",
                                                      f"{i}" * 6, 10))
    assert len(sessions) == 1
    sessions[0].sock.shutdown(socket.SHUT_RDWR)  # as a server that timed the idle connection out
    transport.send(rules.build_login_code_message("ob@my-company.example", "b3@my-company.example", "333333", 10))
    assert len(sessions) == 2
    transport.close()
    assert transport._smtp is None
    for i in range(4):
        assert len(peer.wait_for(f"b{i}@my-company.example")) == 1


def test_a_connection_that_cannot_be_opened_is_told_apart_from_a_failed_send():
    """Nothing listens: `NotConnected` (nothing was sent), which lets a second lane retire."""
    msg = rules.build_login_code_message("ob@my-company.example", "t@my-company.example", "777777", 10)
    with pytest.raises(NotConnected):
        SmtpTransport(rules.Route("127.0.0.1", free_port(), starttls=False)).send(msg)
