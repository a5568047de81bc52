"""Keep one process running: `python tools/supervise.py <name> -- <command...>` (used by `./ob run`).

honcho stops every process as soon as one exits; each service runs under this loop instead, so a
service that exits (it could not work at all, e.g. its database was gone at start) is restarted
with back-off (1 s, doubling to 30 s; reset after a minute of running) while the others keep
serving. Exit status 2 (bad configuration) is final: restarting cannot fix it. SIGTERM / Ctrl-C
go to the child, and the loop ends when it has exited.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time

CONFIG_ERROR = 2


def supervise(name: str, command: list[str], max_backoff: float = 30.0) -> int:
    child: subprocess.Popen | None = None
    stopping = False

    def forward(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    backoff = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)
        code = child.wait()
        if stopping:
            return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code
        if code == CONFIG_ERROR:
            print(f"[supervise] {name} exited with status 2 (configuration): not restarting", flush=True)
            return code
        if time.monotonic() - started > 60:
            backoff = 1.0
        print(f"[supervise] {name} exited with status {code}: restarting in {backoff:.0f} s", flush=True)
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.1)
        if stopping:
            return 0
        backoff = min(backoff * 2, max_backoff)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python tools/supervise.py <name> -- <command...>", file=sys.stderr)
        return 2
    return supervise(argv[0], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
