"""`./ob run` keeps the stack up when one process exits: tools/supervise.py restarts it with
back-off, stops for a configuration error, and passes SIGTERM on."""
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUPERVISE = [sys.executable, str(REPO / "tools" / "supervise.py"), "svc", "--"]


def test_a_process_that_exits_is_restarted_and_sigterm_stops_it(tmp_path):
    runs = tmp_path / "runs"
    # exits 1 on its first two runs, then stays up until SIGTERM (and exits 0 then)
    child = ("import pathlib, signal, sys, time; p = pathlib.Path(sys.argv[1]); p.write_text(p.read_text() + 'x')"
             " if p.exists() else p.write_text('x'); n = len(p.read_text());"
             " signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); sys.exit(1) if n < 3 else time.sleep(60)")
    proc = subprocess.Popen([*SUPERVISE, sys.executable, "-c", child, str(runs)], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (runs.exists() and len(runs.read_text()) == 3):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.count("exited with status 1: restarting") == 2
    assert "in 1 s" in out and "in 2 s" in out  # back-off doubles


def test_a_configuration_error_is_not_restarted():
    proc = subprocess.run([*SUPERVISE, sys.executable, "-c", "raise SystemExit(2)"], capture_output=True, text=True,
                          timeout=10)
    assert proc.returncode == 2 and "not restarting" in proc.stdout
