"""A PostgreSQL cluster of the fault suite's own, which a scenario may stop and start.

Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin), else pgserver's. PostgreSQL
refuses to run as root, so as root the cluster belongs to the `postgres` user (Debian's package
creates it) or to `pgserver` (the user pgserver creates). It listens on 127.0.0.1 only, with trust
authentication, and its data directory is deleted on `close()`.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.infra import free_port


def _bin_dir() -> Path:
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    from pgserver._commands import POSTGRES_BIN_PATH  # the embedded PostgreSQL of pgserver

    return Path(POSTGRES_BIN_PATH)


def _os_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no `postgres` user to own a PostgreSQL cluster")


class PrivatePostgres:
    def __init__(self, max_connections: int = 200):
        self.bin = _bin_dir()
        self.user = _os_user()
        self.base = Path(tempfile.mkdtemp(prefix="ob-faults-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.port = free_port()
        if self.user:
            shutil.chown(self.base, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=utf8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.base}'\nmax_connections = {max_connections}\n"
                       "fsync = off\n")  # the machine never crashes under the test; immediate stops still recover
        self.start()

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        subprocess.run([str(self.bin / tool), *args], user=self.user, check=True, capture_output=True,
                       timeout=timeout, cwd=self.base)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """`mode="immediate"` is a crash: no checkpoint, every connection cut, recovery at start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def close(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.base, ignore_errors=True)
