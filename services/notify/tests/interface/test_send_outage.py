"""No duplicate mail when the database goes away right after the SMTP server accepted a mail:
the sender keeps retrying the `sent_at` commit instead of sending again, and
another replica's sender does not take the claimed mail meanwhile. Real PostgreSQL, through a
proxy the test cuts; the SMTP side is a recording transport."""
import threading
import time

import psycopg
import pytest

from obcommon.migrate import upgrade
from obcommon.service import Db
from services.notify import repository, rules
from services.notify.dependencies import Sender
from services.notify.models import Base
from tests.support.infra import fresh_database
from tests.support.tcpproxy import TcpProxy

FROM = "office-booker@my-company.example"


class Recording:
    def __init__(self, on_send=None):
        self.sent = []
        self.on_send = on_send

    def send(self, msg) -> None:
        self.sent.append(msg)
        if self.on_send:
            self.on_send()

    def close(self) -> None:
        pass


@pytest.fixture
def database(database_server):
    with fresh_database(database_server) as url:
        upgrade(url, ["notify"])
        yield url


def sender(db: Db, transport, retry_base: float = 0.1) -> Sender:
    return Sender(db, transport, FROM, retry_base=retry_base, local_development=False,
                  spawn=lambda fn, identifier=None: threading.Thread(target=fn, daemon=True).start(),
                  sleep=time.sleep)


def test_the_database_dying_after_the_send_does_not_send_it_again(database):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("INSERT INTO notify.mail (source_event_id, kind, to_address, subject, body, attempts, "
                     "next_attempt_at, created_at) VALUES ('evt-1', 'login_code', 'a@my-company.example', 's', "
                     "'code 123456', 0, now(), now())")
    proxy, proxied = TcpProxy.for_url(database, default_port=5432)
    other_db = Db.standalone(database, Base, "notify")
    other = Recording()

    def database_dies():
        proxy.cut()
        # while it is away, another replica looks for due mail: the claimed one is not due
        for _ in range(5):
            assert sender(other_db, other).send_next() is None
            time.sleep(0.2)
        threading.Timer(1.5, proxy.restore).start()

    smtp = Recording(on_send=database_dies)
    db = Db.standalone(proxied, Base, "notify")
    try:
        assert sender(db, smtp).run() == 1
    finally:
        db.dispose()
        other_db.dispose()
        proxy.close()
    assert len(smtp.sent) == 1 and other.sent == []
    assert smtp.sent[0]["Message-ID"] == rules.message_id("evt-1", FROM)
    with psycopg.connect(database) as conn:
        sent_at, body, attempts = conn.execute("SELECT sent_at, body, attempts FROM notify.mail").fetchone()
    assert sent_at is not None and body is None and attempts == 0


def test_a_failed_send_is_retried_later_and_counted(database):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("INSERT INTO notify.mail (source_event_id, kind, to_address, subject, body, attempts, "
                     "next_attempt_at, created_at) VALUES ('evt-2', 'login_code', 'b@my-company.example', 's', "
                     "'x', 0, now(), now())")

    class Refusing:
        def send(self, msg):
            raise ConnectionRefusedError(111, "Connection refused")

    db = Db.standalone(database, Base, "notify")
    try:
        # a 1 s backoff: the next look, even on a slow machine, comes before it
        assert sender(db, Refusing(), retry_base=1.0).send_next() is False
        assert sender(db, Recording()).send_next() is None  # pushed back by the backoff
        time.sleep(1.1)
        ok = Recording()
        assert sender(db, ok).send_next() is True and len(ok.sent) == 1
    finally:
        db.dispose()
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT attempts, sent_at IS NOT NULL FROM notify.mail").fetchone() == (1, True)


def test_a_burst_goes_in_claimed_batches_and_a_failure_releases_the_rest_at_once(database, monkeypatch):
    """25 due mails: one pass sends them all, oldest first, claiming 10 per transaction. When a
    send fails mid-batch, that mail backs off and the batch's other claimed mails are due again
    at once (not held for the 60 s claim), so the next pass sends them."""
    with psycopg.connect(database, autocommit=True) as conn:
        for i in range(25):
            conn.execute("INSERT INTO notify.mail (source_event_id, kind, to_address, subject, body, attempts, "
                         "next_attempt_at, created_at) VALUES (%s, 'login_code', %s, 's', 'x', 0, "
                         "now() - make_interval(secs => %s), now())", (f"burst-{i}", f"u{i}@my-company.example", 100 - i))
    db = Db.standalone(database, Base, "notify")
    claims = []
    real_claim = repository.claim_due

    def counting(*args, **kwargs):
        claimed = real_claim(*args, **kwargs)
        claims.append(len(claimed))
        return claimed

    monkeypatch.setattr(repository, "claim_due", counting)
    try:
        ok = Recording()
        assert sender(db, ok).run() == 25
        assert [m["To"] for m in ok.sent] == [f"u{i}@my-company.example" for i in range(25)]
        assert claims == [10, 10, 5, 0]

        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("UPDATE notify.mail SET sent_at = NULL, next_attempt_at = now() - interval '1 minute'")

        class FailingThird(Recording):
            def send(self, msg):
                if len(self.sent) == 2:
                    self.sent.append(None)
                    raise ConnectionResetError(104, "Connection reset by peer")
                super().send(msg)

        failing = FailingThird()
        assert sender(db, failing).run() == 2
        with psycopg.connect(database) as conn:
            due_now = conn.execute("SELECT count(*) FROM notify.mail WHERE sent_at IS NULL AND next_attempt_at <= now()"
                                   ).fetchone()[0]
            backing_off = conn.execute("SELECT to_address FROM notify.mail WHERE attempts = 1").fetchall()
        assert due_now == 22 and backing_off == [("u2@my-company.example",)]
        time.sleep(0.5)  # past the failed mail's backoff (retry_base 0.1 s)
        again = Recording()
        assert sender(db, again).run() == 23
    finally:
        db.dispose()
