"""The whole system started for real, as the local runner starts it, for tests and benchmarks."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import yaml

from obcommon.migrate import upgrade
from obcommon.procs import COMMANDS, DEFAULT_PORTS, SERVICES

from .infra import free_port
from .smtp import SmtpPeer

REPO = Path(__file__).resolve().parents[2]

TEST_CONFIG = {
    "advance_booking_days": 14,
    "default_weekly_quota": 3,
    "data_retention_days": 30,
    "email_regex": r"^(.*)@(my-company\.example)$",
    "system_admin_emails": ["admin@my-company.example"],
    "reason_to_book_required": False,
    "notification_to_address": None,
    "from_address": "office-booker@my-company.example",
    "default_timezone": "Europe/London",
    "show_test_banner": False,
    "selftest_user": "selftest@my-company.example",
    "code_ttl_minutes": 10,
    "session_hours": 12,
    "trusted_proxies": 0,
    "offices": [
        {"id": "alpha", "name": "Office Alpha", "quota": 100, "parking_quota": 60},
        {"id": "beta", "name": "Office Beta", "quota": 200, "parking_quota": 150},
    ],
    "read_only": False,
}


class Process:
    def __init__(self, name: str, cmd: list[str], env: dict, log_path: Path, http_port: int):
        self.name = name
        self.http_port = http_port
        self.log_path = log_path
        self._log = open(log_path, "ab")
        argv = [sys.executable if cmd[0] == "python" else cmd[0], *cmd[1:]]
        self.popen = subprocess.Popen(argv, env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def ready(self) -> bool:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")
        try:
            return requests.get(self.url + "/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15, signalled: bool = False) -> None:
        if self.popen.poll() is None:
            if not signalled:
                self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


class Stack:
    def __init__(self, amqp_uri: str, database_url: str, workdir: Path | None = None,
                 config: dict | None = None, extra_env: dict | None = None):
        self.amqp_uri = amqp_uri
        self.database_url = database_url
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="ob-stack-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = {**TEST_CONFIG, **(config or {})}
        self.config_path = self.workdir / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(self.config))
        self.smtp = SmtpPeer(free_port())
        self.processes: dict[str, Process] = {}
        self._tokens: dict[str, str] = {}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OB_", "SMTP_", "OTEL_"))},
            "OFFICE_BOOKER_CONFIG": str(self.config_path),
            "AMQP_URI": amqp_uri,
            "DATABASE_URL": database_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port),
            "SMTP_STARTTLS": "false",
            "SECRET_KEY": "test-secret-key-for-office-booker",
            "NOTIFY_RETRY_BASE_SECONDS": "0.5",
            "PYTHONUNBUFFERED": "1",
            # one process per gateway replica: a test's "gateway2" is a second replica; the
            # forked workers (gateway/workers.py) have tests of their own (tests/test_gateway_workers.py)
            "GATEWAY_PROCESSES": "1",
            **(extra_env or {}),
        }
        self.env.pop("DEV_MAILBOX", None)

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 60) -> Stack:
        self.smtp.start()
        upgrade(self.database_url)
        for name in SERVICES:
            self.launch(name)
        self.launch("gateway")
        self.wait_ready(timeout)
        return self

    def launch(self, name: str, key: str | None = None, env: dict | None = None,
               service_class: str | None = None, port: int | None = None) -> Process:
        """Start one more process (`key` names a second replica, e.g. "gateway2");
        `service_class` ("module:Class") runs another class as that service; `port` shares
        another gateway's port (SO_REUSEPORT: the kernel spreads connections over both)."""
        key = key or name
        port = port or free_port()
        proc_env = dict(self.env, **(env or {}))
        if name == "gateway":
            proc_env["GATEWAY_PORT"] = str(port)
        else:
            proc_env["SERVICE_PORT"] = str(port)
        command = COMMANDS[name] + ([service_class] if service_class else [])
        proc = Process(key, command, proc_env, self.workdir / f"{key}.log", port)
        self.processes[key] = proc
        return proc

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(self.processes)
        while pending:
            for key, proc in list(pending.items()):
                if proc.ready():
                    pending.pop(key)
            if pending and time.monotonic() > deadline:
                tails = "\n\n".join(f"== {k}\n{p.log_tail()}" for k, p in pending.items())
                raise TimeoutError(f"not ready: {', '.join(pending)}\n{tails}")
            time.sleep(0.1)

    def stop(self) -> None:
        procs = list(self.processes.values())
        for proc in procs:  # signal all first: they shut down in parallel
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.stop(signalled=True)
        self.processes.clear()
        self.smtp.stop()

    # ------------------------------------------------------------------ helpers

    @property
    def gateway_url(self) -> str:
        return self.processes["gateway"].url

    def url(self, path: str, replica: str = "gateway") -> str:
        return self.processes[replica].url + path

    @contextlib.contextmanager
    def rpc(self, timeout: float = 10) -> Iterator:
        from nameko.standalone.rpc import ClusterRpcProxy

        # Importing the contracts registers their error types, so they are re-raised as themselves.
        import services.booking.contract  # noqa: F401
        import services.identity.contract  # noqa: F401
        import services.offices.contract  # noqa: F401

        with ClusterRpcProxy({"AMQP_URI": self.amqp_uri, "serializer": "json"}, timeout=timeout) as proxy:
            yield proxy

    def login(self, email: str, replica: str = "gateway") -> dict:
        """Sign in through the gateway with the code read from the SMTP peer; returns the JSON."""
        before = len(self.smtp.to(email))
        r = requests.post(self.url("/api/auth/code", replica), json={"email": email}, timeout=10)
        assert r.status_code == 202, r.text
        code = self.smtp.code_for(email, count=before + 1)
        r = requests.post(self.url("/api/auth/verify", replica), json={"email": email, "code": code}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def client(self, email: str, replica: str = "gateway") -> requests.Session:
        """A requests session authenticated with a bearer token. One sign-in per address per
        stack (sign-in is rate-limited per address); use `login()` for a fresh session."""
        email = email.strip().lower()
        if email not in self._tokens:
            self._tokens[email] = self.login(email, replica)["token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self._tokens[email]}"
        return session


def default_ports() -> dict[str, int]:
    return dict(DEFAULT_PORTS)
