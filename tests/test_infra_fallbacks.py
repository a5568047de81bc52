"""The fixtures' last resort works: a private rabbitmq-server node and an embedded PostgreSQL
(pgserver, reached through a `?host=/socket/dir` URL), with a real service running on them."""
import os
import shutil
import tempfile
import time

import pytest
import requests

from obcommon.migrate import upgrade
from obcommon.procs import COMMANDS

from .support import infra
from .support.stack import Process


@pytest.mark.skipif(not (shutil.which("rabbitmq-server") or os.path.exists("/usr/sbin/rabbitmq-server")),
                    reason="rabbitmq-server is not installed")
def test_service_runs_on_self_started_servers(tmp_path):
    import pgserver
    from nameko.standalone.rpc import ClusterRpcProxy

    pgdata = tempfile.mkdtemp(prefix="ob-pg-")
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    proc = None
    try:
        with infra.private_rabbitmq() as amqp_uri:
            assert "host=/" in server.get_uri()
            with infra.fresh_database(server.get_uri()) as db_url:
                upgrade(db_url, ["offices"])
                env = {**os.environ, "AMQP_URI": amqp_uri, "DATABASE_URL": db_url,
                       "SECRET_KEY": "x" * 32, "SERVICE_PORT": str(infra.free_port())}
                proc = Process("offices", COMMANDS["offices"], env, tmp_path / "offices.log", int(env["SERVICE_PORT"]))
                deadline = time.monotonic() + 60
                while not proc.ready():
                    assert time.monotonic() < deadline, proc.log_tail()
                    time.sleep(0.2)
                assert requests.get(proc.url + "/readyz", timeout=5).json()["checks"] == {"database": "ok", "broker": "ok"}
                with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as rpc:
                    assert [o["id"] for o in rpc.offices.list_offices()] == ["alpha", "beta"]
                proc.stop()
                proc = None
    finally:
        if proc:
            proc.stop()
        server.cleanup()
