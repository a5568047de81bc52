"""Our processes resolve host names without dnspython (issue 16: ~17 MB less per process) and
without blocking eventlet's hub: a lookup runs in eventlet's thread pool, so a slow DNS answer
stalls one green thread, not the process (obcommon/green.py)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = r"""
from obcommon.green import monkey_patch
monkey_patch()
import json, socket, sys, time
import eventlet
from eventlet import patcher
import eventlet.green.socket as green_socket

real_sleep = patcher.original("time").sleep
resolver = patcher.original("socket")
def slow_getaddrinfo(*args, **kwargs):  # a DNS server that takes 0.5 s, blocking its thread
    real_sleep(0.5)
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", args[1]))]
resolver.getaddrinfo = slow_getaddrinfo
ticks = []
def ticker():
    while True:
        ticks.append(time.monotonic())
        eventlet.sleep(0.01)
eventlet.spawn_n(ticker)
eventlet.sleep(0.05)
started = time.monotonic()
answer = socket.getaddrinfo("db.example.internal", 5432)
also = green_socket.getaddrinfo("db.example.internal", 5432)
took = time.monotonic() - started
during = [t for t in ticks if started <= t <= started + took]
print(json.dumps({"took": took, "ticks": len(during), "answer": answer[0][4][0], "also": also[0][4][0],
                  "dns_loaded": "dns" in sys.modules, "cryptography_loaded": "cryptography" in sys.modules}))
"""


def test_a_slow_lookup_does_not_stall_the_process_and_dnspython_is_not_loaded():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60,
                         check=True).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe["answer"] == probe["also"] == "127.0.0.1"
    assert probe["took"] >= 0.9  # two lookups of 0.5 s each really ran
    # a blocked hub would tick ~once in that second; a free one ~100 times (every 10 ms)
    assert probe["ticks"] >= 30, probe
    assert not probe["dns_loaded"] and not probe["cryptography_loaded"], probe
