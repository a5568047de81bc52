"""One stack for every admin test module (package scope): two gateway replicas, a self-test key."""
from __future__ import annotations

import pytest

from ..support.admin import ADMIN, Api
from ..support.fixtures import running_stack
from .common import CONFIG, SELFTEST_KEY


@pytest.fixture(scope="package")
def astack(database_server, amqp_server, tmp_path_factory):
    with running_stack(database_server, amqp_server, tmp_path_factory.mktemp("admin"), CONFIG,
                       extra_env={"SELFTEST_KEY": SELFTEST_KEY}) as s:
        s.launch("gateway", key="gateway2")
        s.wait_ready()
        yield s


@pytest.fixture(scope="package")
def admin(astack) -> Api:
    return Api(astack, ADMIN)
