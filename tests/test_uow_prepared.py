"""A unit of work that ends without a commit (every read, every refusal) keeps the statements
psycopg prepared on its connection (obcommon.db.end_keeping_prepared); a failed one lets psycopg
forget them, as it must (a PREPARE may have been lost with the transaction). Real PostgreSQL."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

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
