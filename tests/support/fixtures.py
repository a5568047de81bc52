"""pytest fixtures shared by every test folder (registered in the root conftest.py)."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

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


@contextlib.contextmanager
def running_stack(database_server: str, amqp_server: str, workdir, config: dict | None = None,
                  extra_env: dict | None = None) -> Iterator[Stack]:
    """The whole system (five services + gateway) on a private vhost and database."""
    with fresh_vhost(amqp_server) as amqp_uri, fresh_database(database_server) as db_url:
        s = Stack(amqp_uri, db_url, workdir, config=config, extra_env=extra_env)
        try:
            s.start()
            yield s
        finally:
            s.stop()


@pytest.fixture(scope="session")
def stack(database_server, amqp_server, tmp_path_factory):
    """The shared stack, with tests/support/stack.py's TEST_CONFIG."""
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("stack")) as s:
        yield s
