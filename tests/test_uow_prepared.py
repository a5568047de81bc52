"""A unit of work that ends without a commit (every read, every refusal) keeps the statements
psycopg prepared on its connection (obcommon.db.end_keeping_prepared); a failed one lets psycopg
forget them, as it must (a PREPARE may have been lost with the transaction). Real PostgreSQL."""
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from obcommon.service import Db
from services.booking.models import Base

PREPARED = text("SELECT count(*) FROM pg_prepared_statements")


def test_a_unit_of_work_ended_without_commit_keeps_the_prepared_statements(database_server):
    db = Db.standalone(database_server, Base, "booking", pool_size=1)  # one connection: the same one each time
    try:
        with db.uow() as uow:
            for _ in range(6):  # psycopg prepares a statement at its fifth use
                uow.session.execute(text("SELECT 1 + :x"), {"x": 1})
            uow.session.execute(text("SELECT set_config('ob.probe', 'changed', false)"))  # undone: not committed
        with db.uow() as uow:
            assert uow.session.execute(PREPARED).scalar_one() >= 1
            assert uow.session.execute(text("SELECT current_setting('ob.probe', true)")).scalar_one() in (None, "")
        with pytest.raises(DBAPIError), db.uow() as uow:
            uow.session.execute(text("SELECT 1 / 0"))
        with db.uow() as uow:
            assert uow.session.execute(PREPARED).scalar_one() == 0  # forgotten after a failed transaction
    finally:
        db.dispose()


def test_a_connection_lost_mid_transaction_raises_the_databases_own_error(database_server):
    """PostgreSQL restarting under a unit of work: its caller sees SQLAlchemy's OperationalError
    (the services answer 503 for it), not an error of the rollback at the end (a 500)."""
    db = Db.standalone(database_server, Base, "booking", pool_size=1)
    try:
        with pytest.raises(OperationalError), db.uow() as uow:
            pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with psycopg.connect(database_server, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            uow.session.execute(text("SELECT 1"))
        with db.uow() as uow:  # and the pool has a working connection again
            assert uow.session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


def test_a_read_opens_no_transaction_and_hands_its_connection_back_transactional(database_server):
    """`Db.autocommit()` (a decision's lock-free preview) runs its statements without BEGIN/ROLLBACK
    (autocommit: PostgreSQL reports no transaction), and the pooled connection it used is a
    transactional one again for the next unit of work: an uncommitted change there is undone."""
    db = Db.standalone(database_server, Base, "booking", pool_size=1)  # one connection: the same one each time
    try:
        with db.autocommit() as connection:
            for _ in range(6):  # prepared at its fifth use, as in a unit of work
                connection.execute(text("SELECT 1 + :x"), {"x": 1})
            # no transaction block: now() is the time of the statement, not of an earlier BEGIN
            connection.execute(text("SELECT pg_sleep(0.01)"))
            assert connection.execute(text("SELECT now() = statement_timestamp()")).scalar_one() is True
        with db.uow() as uow:
            assert uow.session.execute(PREPARED).scalar_one() >= 1  # the same connection, its statements kept
            uow.session.execute(text("SELECT pg_sleep(0.01)"))
            assert uow.session.execute(text("SELECT now() = statement_timestamp()")).scalar_one() is False  # in a transaction
            uow.session.execute(text("SELECT set_config('ob.probe', 'changed', true)"))  # local to the transaction
        with db.uow() as uow:
            assert uow.session.execute(text("SELECT current_setting('ob.probe', true)")).scalar_one() in (None, "")
    finally:
        db.dispose()
