"""Local development mode (SPEC §2): no SMTP_HOST, the code goes to the console and the
development mailbox (`python -m obcommon.devmail`)."""
from __future__ import annotations

import json
import os
import signal
import uuid

import psycopg
import pytest
import requests

from obcommon.messaging import wait_for
from obcommon.procs import DEV_MAILBOX
from tests.support.infra import free_port, port_open
from tests.support.stack import Process

from ..conftest import running_notify


def new_address() -> str:
    return f"dev-{uuid.uuid4().hex[:10]}@my-company.example"


@pytest.fixture
def devmail(tmp_path):
    smtp_port, http_port = free_port(), free_port()
    env = {**os.environ, "DEV_MAILBOX": f"127.0.0.1:{smtp_port}", "DEV_MAILBOX_HTTP": f"127.0.0.1:{http_port}",
           "PYTHONUNBUFFERED": "1"}
    proc = Process("devmail", DEV_MAILBOX, env, tmp_path / "devmail.log", http_port)
    try:
        wait_for(lambda: proc.popen.poll() is None and port_open("127.0.0.1", smtp_port)
                 and port_open("127.0.0.1", http_port), timeout=20, what="devmail ports")
        proc.smtp_address = f"127.0.0.1:{smtp_port}"
        yield proc
    finally:
        proc.stop()


def test_code_goes_to_the_console_and_the_development_mailbox(amqp_server, database_server, devmail, tmp_path):
    email, code = new_address(), "424242"
    with running_notify(amqp_server, database_server, tmp_path, OB_MODE="development",
                        DEV_MAILBOX=devmail.smtp_address) as notify:
        notify.publish_code(email, code)

        def received():
            items = requests.get(devmail.url + "/messages.json", timeout=2).json()
            return [m for m in items if email in m["to"]]

        [item] = wait_for(received, timeout=15, what="mail in the development mailbox")
        assert item["subject"] == "Your Office Booker sign-in code" and code in item["body"]
        assert f"development mode: sign-in code for {email} is {code}" in notify.log()

    page = requests.get(devmail.url + "/", timeout=2)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"] and code in page.text
    assert requests.get(devmail.url + "/nope", timeout=2).status_code == 404
    lines = [json.loads(line) for line in devmail.log_path.read_text().splitlines() if line.startswith("{")]
    [logged] = [r for r in lines if r.get("message") == "mail received" and email in r.get("to", [])]
    assert code in logged["body"] and logged["service"] == "devmail"

    devmail.stop(signal.SIGTERM)
    assert devmail.popen.returncode == 0
    assert "development mailbox stopped" in devmail.log_path.read_text()


def test_without_any_mailbox_the_code_is_only_logged(amqp_server, database_server, tmp_path):
    email, code = new_address(), "135790"
    with running_notify(amqp_server, database_server, tmp_path, OB_MODE="development") as notify:
        payload = notify.publish_code(email, code)

        def sent():
            with psycopg.connect(notify.database_url) as conn:
                return conn.execute("SELECT sent_at, body FROM notify.mail WHERE source_event_id = %s",
                                    (payload["event_id"],)).fetchone()

        row = wait_for(lambda: (r := sent()) and r[0] and r, timeout=15, what="mail marked sent")
        assert row[1] is None
        log = notify.log()
        assert f"development mode: sign-in code for {email} is {code}" in log
        assert "the log only (development mode" in log
