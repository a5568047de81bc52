"""The fault suite's servers and stack: a private RabbitMQ node and PostgreSQL cluster, so stopping
them disturbs no other test, and the whole system under a supervisor, shared by the scenarios."""
from __future__ import annotations

import psycopg
import pytest

from tests.support.infra import private_rabbitmq, with_database
from tests.support.stack import Stack

from . import rig as rig_module
from .postgres import PrivatePostgres
from .rig import CONFIG, Figures, Rig
from .supervisor import Supervisor


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    pg = PrivatePostgres()
    try:
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE faults")
        with private_rabbitmq() as amqp_uri:
            stack = Stack(amqp_uri, with_database(pg.url, "faults"), tmp_path_factory.mktemp("faults"),
                          config=CONFIG, extra_env={"MAX_WORKERS": "10"})
            supervisor = Supervisor(stack)
            try:
                stack.start()
                supervisor.start()
                the_rig = Rig(stack, supervisor, amqp_uri, pg)
                yield the_rig
            finally:
                supervisor.stop()
                stack.stop()
    finally:
        pg.close()


def pytest_terminal_summary(terminalreporter):
    if rig_module.RESULTS:
        terminalreporter.write_sep("=", "fault-injection figures (tests/faults)")
        terminalreporter.write_line(Figures.HEADER)
        for f in rig_module.RESULTS:
            terminalreporter.write_line(f.row())
