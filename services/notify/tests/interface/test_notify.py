"""notify against a real broker, database and SMTP peer: codes are mailed once, never lost."""
from __future__ import annotations

import time
import uuid

import psycopg
import requests

from obcommon.messaging import wait_for
from tests.support.infra import free_port
from tests.support.smtp import SmtpPeer

from ..conftest import running_notify


def new_address() -> str:
    return f"u-{uuid.uuid4().hex[:10]}@my-company.example"


def mail_row(notify, event_id: str):
    with psycopg.connect(notify.database_url) as conn:
        return conn.execute(
            "SELECT to_address, body, attempts, sent_at, last_error, kind FROM notify.mail"
            " WHERE source_event_id = %s", (event_id,)).fetchone()


def test_login_code_is_mailed_to_the_user(notify, smtp_peer):
    email = new_address()
    payload = notify.publish_code(email, "012345")

    [msg] = smtp_peer.wait_for(email)
    assert msg["To"] == email
    assert msg["From"] == "office-booker@my-company.example"
    assert msg["Subject"] == "Your Office Booker sign-in code"
    text = SmtpPeer.text(msg)
    assert "012345" in text and "10 minutes" in text

    # Sent and marked; the plaintext code is not kept.
    row = wait_for(lambda: (r := mail_row(notify, payload["event_id"])) and r[3] and r, timeout=5, what="sent_at")
    assert row[0] == email and row[1] is None and row[2] == 0 and row[5] == "login_code"
    # Production (SMTP_HOST set): the code is never logged.
    assert "012345" not in notify.log()


def test_a_redelivered_event_mails_once(notify, smtp_peer):
    email = new_address()
    payload = notify.code_event(email)
    notify.publish(payload)
    notify.publish(payload)
    smtp_peer.wait_for(email)
    # Once a later event's mail has arrived, both copies have been handled.
    marker = new_address()
    notify.publish_code(marker)
    smtp_peer.wait_for(marker)
    with psycopg.connect(notify.database_url, autocommit=True) as conn:
        # every mail to `email` has been sent (a second row would be a second mail)
        wait_for(lambda: conn.execute("SELECT count(*) FROM notify.mail WHERE to_address = %s AND sent_at IS NULL",
                                      (email,)).fetchone()[0] == 0, timeout=15, what="no unsent mail")
        assert len(smtp_peer.to(email)) == 1
        assert conn.execute("SELECT count(*) FROM notify.mail WHERE to_address = %s", (email,)).fetchone()[0] == 1


def test_a_burst_of_events_is_stored_in_few_transactions(notify, smtp_peer):
    """The mails of events handled at the same time are stored together (obcommon.batching: one
    transaction, whose rows share their `created_at`), and every one is sent once. The table is
    locked meanwhile so that the workers' events pile up as they do in a rush."""
    emails = [new_address() for _ in range(30)]
    with psycopg.connect(notify.database_url) as locker:
        locker.execute("LOCK TABLE notify.mail IN SHARE MODE")  # inserts wait
        events = [notify.publish_code(email) for email in emails]
        time.sleep(1.0)  # the workers have taken their messages and wait for the table
    for email in emails:
        smtp_peer.wait_for(email)
    with psycopg.connect(notify.database_url) as conn:
        stored, transactions = conn.execute(
            "SELECT count(*), count(DISTINCT created_at) FROM notify.mail WHERE source_event_id = ANY(%s)",
            ([e["event_id"] for e in events],)).fetchone()
    assert stored == 30 and transactions <= 15  # (one per event before: 30)
    assert all(len(smtp_peer.to(email)) == 1 for email in emails)


def test_mail_survives_an_smtp_outage_and_is_retried(notify, smtp_peer):
    email = new_address()
    smtp_peer.stop()  # nothing listens on the SMTP port now
    try:
        payload = notify.publish_code(email, "654321")
        # Attempts fail and are retried with backoff; the mail stays stored and unsent.
        row = wait_for(lambda: (r := mail_row(notify, payload["event_id"])) and r[2] >= 2 and r,
                       timeout=15, what="two failed attempts")
        assert row[3] is None and row[1] and "654321" in row[1]
        assert "Connection" in row[4] or "refused" in row[4].lower()
        with notify.rpc() as rpc:
            assert rpc.pending_count() >= 1
            status = rpc.outbox_status()
        assert status["pending"] >= 1 and status["failing"] >= 1 and status["oldest_pending_at"]
        warnings = [line for line in notify.log().splitlines() if '"WARNING"' in line and "failed on attempt" in line]
        assert warnings and not any("654321" in line for line in warnings)
    finally:
        smtp_peer.start()  # the server is back on the same port

    [msg] = smtp_peer.wait_for(email, timeout=15)
    assert "654321" in SmtpPeer.text(msg)
    row = wait_for(lambda: (r := mail_row(notify, payload["event_id"])) and r[3] and r, timeout=5, what="sent_at")
    assert row[1] is None and row[2] >= 2 and row[4] is None
    with notify.rpc() as rpc:
        wait_for(lambda: rpc.pending_count() == 0, timeout=10, what="nothing pending")

    metrics = requests.get(notify.process.url + "/metrics", timeout=5).text
    assert 'ob_mail_sent_total{kind="login_code"}' in metrics
    assert 'ob_mail_failures_total{kind="login_code"}' in metrics


def test_a_burst_goes_out_on_several_connections_at_once_and_each_mail_once(amqp_server, database_server,
                                                                            tmp_path_factory):
    """A slow SMTP server (0.2 s per mail) and 30 mails due at once: notify sends them on
    SMTP_CONNECTIONS (3) connections at once, never more, and every mail exactly once. On one
    connection the burst took 30 of the server's answers one after the other (issue 16: notify
    fell ~20 s behind 100 bookings a second)."""
    peer = SmtpPeer(free_port(), data_delay=0.2).start()
    try:
        with running_notify(amqp_server, database_server, tmp_path_factory.mktemp("notify-lanes"),
                            SMTP_HOST="127.0.0.1", SMTP_PORT=str(peer.port), SMTP_STARTTLS="false",
                            SMTP_CONNECTIONS="3") as lanes:
            emails = [new_address() for _ in range(30)]
            with psycopg.connect(lanes.database_url) as conn:  # one transaction: all due at once
                for i, email in enumerate(emails):
                    conn.execute("INSERT INTO notify.mail (source_event_id, kind, to_address, subject, body, "
                                 "attempts, next_attempt_at, created_at) VALUES (%s, 'booking_confirmation', %s, "
                                 "'Your booking', 'See you', 0, now(), now())", (f"lanes-{i}", email))
            for email in emails:
                peer.wait_for(email, timeout=30)
            time.sleep(0.5)  # (a duplicate would arrive now)
            assert all(len(peer.to(email)) == 1 for email in emails)
            assert peer.max_in_flight == 3
            with psycopg.connect(lanes.database_url) as conn:
                assert conn.execute("SELECT count(*) FROM notify.mail WHERE sent_at IS NULL").fetchone()[0] == 0
    finally:
        peer.stop()
