"""No duplicate mail when the database goes away right after the SMTP server accepted a mail:
the sender keeps retrying the `sent_at` commit instead of sending again, and
another replica's sender does not take the claimed mail meanwhile. Real PostgreSQL, through a
proxy the test cuts; the SMTP side is a recording transport."""
import threading
import time
from datetime import timedelta

import eventlet
import psycopg
import pytest
from sqlalchemy import event

from obcommon.messaging import wait_for
from obcommon.migrate import upgrade
from obcommon.service import Db
from services.notify import repository, rules
from services.notify.dependencies import NotConnected, Sender
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
    return Sender(db, [transport], FROM, retry_base=retry_base, local_development=False,
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


def insert_due(database: str, count: int, kind: str, prefix: str, seconds_ago: int = 100) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        for i in range(count):
            conn.execute("INSERT INTO notify.mail (source_event_id, kind, to_address, subject, body, attempts, "
                         "next_attempt_at, created_at) VALUES (%s, %s, %s, 's', 'x', 0, "
                         "now() - make_interval(secs => %s), now())",
                         (f"{prefix}-{i}", kind, f"{prefix}{i}@my-company.example", seconds_ago - i / 1000))


def test_a_failing_lane_stops_the_pass_and_no_mail_is_lost_or_sent_twice(database):
    """Three lanes (SMTP connections) on a burst of 40; the second lane's first send fails: that
    mail backs off, the pass stops, every claimed mail no lane sent is due again at once, and the
    next pass sends them all: each of the 40 exactly once."""
    insert_due(database, 40, "booking_confirmation", "lane")

    class Network(Recording):
        def send(self, msg):
            eventlet.sleep(0.001)  # the server's answer: other lanes run meanwhile
            super().send(msg)

    class FailingOnce(Network):
        def send(self, msg):
            if not self.sent:
                self.sent.append(None)
                raise ConnectionResetError(104, "Connection reset by peer")
            super().send(msg)

    db = Db.standalone(database, Base, "notify", pool_size=4)
    try:
        first, failing, third = Network(), FailingOnce(), Network()
        lanes = Sender(db, [first, failing, third], FROM, retry_base=0.1, local_development=False,
                       spawn=lambda fn, identifier=None: None, sleep=time.sleep)
        sent = lanes.run()
        delivered = [m for t in (first, failing, third) for m in t.sent if m is not None]
        assert sent == len(delivered) and 0 < sent < 39
        with psycopg.connect(database) as conn:
            due_now = conn.execute("SELECT count(*) FROM notify.mail WHERE sent_at IS NULL AND next_attempt_at <= now()"
                                   ).fetchone()[0]
            backing_off = conn.execute("SELECT count(*) FROM notify.mail WHERE attempts = 1 AND sent_at IS NULL"
                                       ).fetchone()[0]
        assert backing_off == 1 and due_now == 40 - sent - 1
        time.sleep(0.5)  # past the failed mail's backoff
        again = Recording()
        assert sender(db, again).run() == 40 - sent
        tos = [m["To"] for m in delivered + again.sent]
        assert sorted(tos) == sorted(f"lane{i}@my-company.example" for i in range(40))
    finally:
        db.dispose()


def test_sign_in_codes_are_claimed_before_a_burst_of_other_mail_by_the_index(database):
    """Someone waiting at the sign-in page is not held up by 2,000 booking confirmations: a code
    that fell due after them is claimed first; the claim reads the index in its order (no sort
    of every due mail)."""
    insert_due(database, 15, "booking_confirmation", "burst", seconds_ago=100)
    insert_due(database, 1, rules.LOGIN_CODE, "code", seconds_ago=1)
    db = Db.standalone(database, Base, "notify")
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db._p.engine, "before_cursor_execute", record)
    try:
        claimed = repository.claim_due(db, timedelta(seconds=60), limit=10)
        assert [m["to"] for m in claimed] == ["code0@my-company.example"] + [
            f"burst{i}@my-company.example" for i in range(9)]
    finally:
        event.remove(db._p.engine, "before_cursor_execute", record)
        db.dispose()
    claim, params = next((s, p) for s, p in statements if "FOR UPDATE SKIP LOCKED" in s)
    with psycopg.connect(database) as conn:
        conn.execute("SET enable_seqscan = off")  # (16 rows: the planner would rather read them all)
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + claim, params).fetchall())
    assert "ix_mail_due" in plan and "Sort" not in plan, plan


def test_a_backlog_larger_than_a_run_is_drained_without_waiting_for_the_timer(database):
    """250 due mails and no timer: one run sends its 100 and starts the next run at once, until
    every mail is sent (a run used to stop at 100 and leave the rest to the next tick of the 1 s
    timer: a backlog drained at 100 mails a second, whatever the SMTP server could take)."""
    insert_due(database, 250, "booking_confirmation", "backlog")
    db = Db.standalone(database, Base, "notify")
    try:
        ok = Recording()
        assert sender(db, ok).run() == Sender.batch
        wait_for(lambda: len(ok.sent) == 250, timeout=30, interval=0.1, what="every mail of the backlog")
        with psycopg.connect(database) as conn:
            assert conn.execute("SELECT count(*) FROM notify.mail WHERE sent_at IS NULL").fetchone()[0] == 0
        assert len({m["To"] for m in ok.sent}) == 250
    finally:
        db.dispose()


def test_an_event_with_more_mails_than_one_insert_takes_is_stored_whole_and_once(database):
    """A ballot's results for 1,200 requesters: more rows than one INSERT carries, so they are
    stored in one transaction (all or none); the event delivered again stores nothing."""
    mails = [rules.Mail(f"draw-1:{i}", f"r{i}@my-company.example", "Ballot result", "x", rules.BALLOT_RESULT)
             for i in range(1200)]
    db = Db.standalone(database, Base, "notify")
    try:
        assert repository.store(db, mails) is True
        assert repository.store(db, mails) is False
    finally:
        db.dispose()
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM notify.mail").fetchone()[0] == 1200


def test_a_lane_the_server_refuses_a_connection_retires_and_the_others_send_everything(database):
    """The SMTP server takes fewer connections from us than SMTP_CONNECTIONS (Microsoft 365: 3
    per mailbox, shared by every notify replica): the lane whose connection is refused gives its
    mails back and the others send them: no attempt counted, no back-off, each mail once."""
    insert_due(database, 40, "booking_confirmation", "limit")

    class Network(Recording):
        def send(self, msg):
            eventlet.sleep(0.001)
            super().send(msg)

    class Refused(Recording):
        def send(self, msg):
            raise NotConnected("SMTPConnectError: (421, b'4.7.0 Too many connections')")

    db = Db.standalone(database, Base, "notify", pool_size=4)
    try:
        first, second, refused = Network(), Network(), Refused()
        lanes = Sender(db, [first, refused, second], FROM, retry_base=0.1, local_development=False,
                       spawn=lambda fn, identifier=None: None, sleep=time.sleep)
        assert lanes.run() == 40
        assert refused.sent == [] and second.sent != []  # (the lane after the refused one still ran)
        tos = sorted(m["To"] for m in first.sent + second.sent)
        assert tos == sorted(f"limit{i}@my-company.example" for i in range(40))
        with psycopg.connect(database) as conn:
            assert conn.execute("SELECT count(*) FROM notify.mail WHERE sent_at IS NULL OR attempts > 0"
                                ).fetchone()[0] == 0
    finally:
        db.dispose()


def test_a_connection_refused_when_no_lane_sends_is_a_failed_attempt(database):
    """With no other lane sending, a refused connection is the server being away: the mail's
    attempt is counted and it backs off (as any failure)."""
    insert_due(database, 1, rules.LOGIN_CODE, "alone")

    class Refused(Recording):
        def send(self, msg):
            raise NotConnected("ConnectionRefusedError: [Errno 111] Connection refused")

    db = Db.standalone(database, Base, "notify")
    try:
        assert sender(db, Refused()).run() == 0
    finally:
        db.dispose()
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT attempts, sent_at FROM notify.mail").fetchone() == (1, None)
