"""pytest fixtures shared by every test folder (registered in the root conftest.py)."""
from __future__ import annotations

import pytest

from .infra import amqp_server_uri, database_server_url, fresh_database, fresh_vhost
from .stack import Stack


@pytest.fixture(scope="session")
def database_server() -> str:
    return database_server_url()


@pytest.fixture(scope="session")
def amqp_server() -> str:
    return amqp_server_uri()


@pytest.fixture
def database_url(database_server):
    """A fresh, empty database for one test."""
    with fresh_database(database_server) as url:
        yield url


@pytest.fixture(scope="session")
def stack(database_server, amqp_server, tmp_path_factory):
    """The whole system (five services + gateway) on a private vhost and database."""
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        s = Stack(amqp_uri, db_url, tmp_path_factory.mktemp("stack"))
        try:
            s.start()
            yield s
        finally:
            s.stop()
