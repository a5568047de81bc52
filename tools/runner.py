"""`./ob run`: start the whole system locally, in one log stream.

1. validates the config (OFFICE_BOOKER_CONFIG, default config/example.yaml);
2. finds RabbitMQ at AMQP_URI, or starts the local rabbitmq-server (installing it with apt-get
   when possible, or explaining how);
3. uses DATABASE_URL, or an embedded PostgreSQL (pgserver) kept in .data/pgdata;
4. generates SECRET_KEY once into .data/secret_key unless it is set;
5. without SMTP_HOST, starts the development mailbox (console + http://127.0.0.1:8025/);
6. runs every service's migrations, starts the five services and the gateway with honcho, each
   under `tools/supervise.py` (a process that exits is restarted with back-off, the others keep
   running), and prints the URL once the gateway is ready.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / ".data"
sys.path.insert(0, str(REPO))

from obcommon.config import ConfigError, Env, load_config  # noqa: E402
from obcommon.procs import COMMANDS, DEV_MAILBOX, MIGRATE  # noqa: E402


def say(message: str) -> None:
    print(f"[office-booker] {message}", flush=True)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def ensure_rabbitmq(amqp_uri: str) -> None:
    parts = urlsplit(amqp_uri)
    host, port = parts.hostname or "localhost", parts.port or 5672
    if reachable(host, port):
        return
    if host not in ("localhost", "127.0.0.1", "::1"):
        sys.exit(f"RabbitMQ is not reachable at {host}:{port} (AMQP_URI). Start it or fix AMQP_URI.")
    server = shutil.which("rabbitmq-server") or ("/usr/sbin/rabbitmq-server" if Path("/usr/sbin/rabbitmq-server").exists() else None)
    if not server and os.geteuid() == 0 and shutil.which("apt-get"):
        say("RabbitMQ is not installed: installing Debian's rabbitmq-server with apt-get …")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "rabbitmq-server"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        server = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    if not server:
        sys.exit("RabbitMQ is needed and none is reachable at localhost:5672.\n"
                 "Install it (Debian/Ubuntu: sudo apt-get install rabbitmq-server; macOS: brew install rabbitmq)\n"
                 "or point AMQP_URI at one, then run ./ob run again.")
    say("starting the local RabbitMQ (rabbitmq-server -detached) …")
    subprocess.run([server, "-detached"], check=False)
    deadline = time.monotonic() + 90
    while not reachable(host, port):
        if time.monotonic() > deadline:
            sys.exit("RabbitMQ did not start within 90 s; see /var/log/rabbitmq/.")
        time.sleep(1)


def ensure_database() -> tuple[str, object]:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], None
    import pgserver
    import psycopg

    DATA.mkdir(exist_ok=True)
    say("starting the embedded PostgreSQL (pgserver) in .data/pgdata …")
    server = pgserver.get_server(DATA / "pgdata", cleanup_mode="stop")
    uri = server.get_uri()
    with psycopg.connect(uri, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'officebooker'").fetchone():
            conn.execute("CREATE DATABASE officebooker")
    parts = urlsplit(uri)
    return parts._replace(path="/officebooker").geturl(), server


def secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    DATA.mkdir(exist_ok=True)
    path = DATA / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def argv(cmd: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(sys.executable if c == "python" else c) for c in cmd)


def announce_when_ready(port: int, dev_mailbox_http: str | None) -> None:
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                lines = [f"Office Booker is ready: http://localhost:{port}/",
                         "Sign in as admin@my-company.example (System Admin) or any …@my-company.example address."]
                if dev_mailbox_http:
                    lines.append(f"Sign-in codes: printed below by 'notify' and 'devmail', and at http://{dev_mailbox_http}/")
                width = max(map(len, lines)) + 4
                print("\n" + "=" * width + "\n" + "\n".join(f"  {ln}" for ln in lines) + "\n" + "=" * width + "\n",
                      flush=True)
                return
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.5)
    say("the gateway did not become ready within 120 s: see the log above")


def main() -> int:
    os.environ.setdefault("OFFICE_BOOKER_CONFIG", str(REPO / "config" / "example.yaml"))
    try:
        load_config()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.setdefault("AMQP_URI", "amqp://guest:guest@localhost:5672/")
    ensure_rabbitmq(env["AMQP_URI"])
    env["DATABASE_URL"], pg = ensure_database()
    env["SECRET_KEY"] = secret_key()
    env.setdefault("GATEWAY_PORT", "8080")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("OB_MODE", "development")  # SPEC §17: only the local runner asks for it
    dev_http = None
    if not env.get("SMTP_HOST"):
        env.setdefault("DEV_MAILBOX", "127.0.0.1:1025")
        dev_http = env.setdefault("DEV_MAILBOX_HTTP", "127.0.0.1:8025")
    try:
        Env.from_environ(env)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    say("running migrations …")
    subprocess.run(argv(MIGRATE), shell=True, check=True, env=env, cwd=REPO)

    from honcho.manager import Manager

    manager = Manager()
    if dev_http:
        manager.add_process("devmail", argv(DEV_MAILBOX), env=env, cwd=str(REPO))
    for name, cmd in COMMANDS.items():
        # each under a restart loop: honcho would stop the whole stack when one process exits
        manager.add_process(name, argv(["python", str(REPO / "tools" / "supervise.py"), name, "--", *cmd]),
                            env=env, cwd=str(REPO))
    threading.Thread(target=announce_when_ready, args=(int(env["GATEWAY_PORT"]), dev_http), daemon=True).start()
    manager.loop()
    del pg  # keeps the embedded PostgreSQL running until here
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
