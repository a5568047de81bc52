"""SPEC §17 in production mode: test stacks run like a cluster does, with an SMTP
server and without OB_MODE, so no process may log a sign-in code; and notify without an SMTP
server refuses to start instead of falling back to logging the codes."""
import json
import os
import re
import subprocess
import sys
import uuid

from tests.support.stack import REPO


def log_text_without_times(path) -> str:
    """A process log with each JSON line's time dropped (its microseconds are 6 digits too)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            out.append(line)  # not JSON (a traceback, a library's print): kept whole
            continue
        if isinstance(record, dict):
            record.pop("time", None)
        out.append(json.dumps(record))
    return "\n".join(out)


def test_no_process_log_contains_a_sign_in_code(stack):
    assert "OB_MODE" not in stack.env and stack.env["SMTP_HOST"]  # production mode, as deployed
    codes = []
    for _ in range(3):
        address = f"prod-{uuid.uuid4().hex[:8]}@my-company.example"
        stack.login(address)  # the code travels by mail and is used: notify and identity saw it
        codes.append(stack.smtp.code_for(address))
    logs = sorted(stack.workdir.glob("*.log"))
    assert {p.stem for p in logs} >= {"gateway", "identity", "notify", "audit"}
    for path in logs:
        text = log_text_without_times(path)
        for code in codes:
            assert not re.search(rf"(?<!\d){code}(?!\d)", text), f"sign-in code found in {path.name}"


def test_notify_without_smtp_refuses_to_start_in_production():
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": "postgresql://ob@127.0.0.1:1/ob",
           "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/", "SECRET_KEY": "x" * 32,
           "OFFICE_BOOKER_CONFIG": str(REPO / "config" / "example.yaml")}  # no SMTP_HOST, no OB_MODE
    done = subprocess.run([sys.executable, "-m", "obcommon.launch", "notify"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "SMTP_HOST: must be set in production mode" in done.stderr
