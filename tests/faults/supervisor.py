"""Restart the stack's processes when they exit, as Kubernetes restarts a pod's container.

Every exit is recorded. An exit the scenario caused (`kill`, `roll`) is *planned*; any other is
a crash the scenario reports as an unplanned exit.
"""
from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass

from tests.support.stack import Process, Stack

RESTART_DELAY = 0.5  # seconds between an exit and the restart (a kubelet waits too)


@dataclass
class Exit:
    key: str
    pid: int
    returncode: int
    at: float  # time.monotonic()
    planned: bool
    log_tail: str = ""


class Supervisor:
    def __init__(self, stack: Stack, interval: float = 0.1):
        self.stack = stack
        self.interval = interval
        self.exits: list[Exit] = []
        self._planned: set[int] = set()  # pids whose exit a scenario caused
        self._lock = threading.RLock()  # held while stack.processes changes
        self._running = False
        self._thread: threading.Thread | None = None

    def start(self) -> Supervisor:
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._running = False
        if self._thread:
            self._thread.join(timeout=5)

    def unplanned_exits(self, since: float) -> list[Exit]:
        return [e for e in self.exits if e.at >= since and not e.planned]

    # ------------------------------------------------------------------ faults

    def kill(self, key: str, sig: int = signal.SIGKILL) -> int:
        """Send `sig` to the process; its exit is planned and it is restarted like a crash."""
        with self._lock:
            proc = self.stack.processes[key]
            self._planned.add(proc.popen.pid)
            proc.popen.send_signal(sig)
            return proc.popen.pid

    def roll(self, key: str, grace: float = 30.0) -> Stopping:
        """Replace one process the way a Kubernetes rolling update does: start the new one next to
        the old, wait until it is ready, then SIGTERM the old one, which has `grace` seconds to exit
        (then SIGKILL, like terminationGracePeriodSeconds). A gateway replacement shares the old
        one's port (SO_REUSEPORT), so clients keep one address. Returns at once after the SIGTERM:
        `.wait()` on the result gives the old process's exit status and seconds to exit."""
        name = key  # the stack's keys are the process names
        with self._lock:
            old = self.stack.processes[key]
            new = self.stack.launch(name, key=f"{key}-next", port=old.http_port if name == "gateway" else None)
        if name == "gateway":  # until the new one listens, the old one answers on the shared port
            wait_logged(new, "gateway listening on", timeout=60)
        wait_ready(new, timeout=60)
        with self._lock:
            self.stack.processes[key] = self.stack.processes.pop(f"{key}-next")
            self._planned.add(old.popen.pid)
        return Stopping(self, key, old, grace)

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        while self._running:
            with self._lock:
                for key, proc in list(self.stack.processes.items()):
                    if proc.popen.poll() is None or key.endswith("-next"):
                        continue  # a surge replacement that dies fails its `roll` instead
                    planned = proc.popen.pid in self._planned
                    self.exits.append(Exit(key, proc.popen.pid, proc.popen.returncode, time.monotonic(), planned,
                                           "" if planned else proc.log_tail(15)))
                    proc.stop()  # closes its log
                    time.sleep(RESTART_DELAY)
                    self.stack.launch(key, key=key, port=proc.http_port)
            time.sleep(self.interval)


class Stopping(threading.Thread):
    """An old process told to stop (SIGTERM) by `Supervisor.roll`; its exit is recorded as planned."""

    def __init__(self, supervisor: Supervisor, key: str, proc: Process, grace: float):
        super().__init__(name=f"stopping-{key}", daemon=True)
        self.supervisor, self.key, self.proc, self.grace = supervisor, key, proc, grace
        self.started = time.monotonic()
        proc.popen.send_signal(signal.SIGTERM)
        self.start()

    def run(self) -> None:
        self.proc.stop(signalled=True, timeout=self.grace)  # SIGKILL after the grace period
        self.seconds = time.monotonic() - self.started
        self.supervisor.exits.append(Exit(self.key, self.proc.popen.pid, self.proc.popen.returncode,
                                          time.monotonic(), planned=True))

    def wait(self) -> tuple[int, float]:
        self.join()
        return self.proc.popen.returncode, self.seconds


def wait_ready(proc: Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not proc.ready():  # raises if the process exited
        if time.monotonic() > deadline:
            raise TimeoutError(f"{proc.name} not ready after {timeout}s:\n{proc.log_tail()}")
        time.sleep(0.1)


def wait_logged(proc: Process, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in proc.log_path.read_text(errors="replace"):
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            raise TimeoutError(f"{proc.name} never logged {text!r}:\n{proc.log_tail()}")
        time.sleep(0.1)


def wait_all_ready(stack: Stack, timeout: float = 60) -> None:
    """Every process answers /readyz (a restarting one may be replaced while we wait)."""
    deadline = time.monotonic() + timeout
    while True:
        pending = []
        for key, proc in list(stack.processes.items()):
            try:
                if not proc.ready():
                    pending.append(key)
            except RuntimeError:  # exited: the supervisor restarts it
                pending.append(key)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout}s: {', '.join(pending)}")
        time.sleep(0.2)
