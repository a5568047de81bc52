"""What /proc says of a process (Linux): its children and its CPU time. Shared by the tests and
the benchmarks (tools/benchlib.py)."""
from __future__ import annotations

from pathlib import Path


def children_of(pid: int) -> list[int]:
    """The process's children (e.g. the gateway's forked workers), [] once it is gone."""
    try:
        return sorted(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return []


def cpu_ticks(pid: int) -> tuple[int, int]:
    """(utime + stime, cutime + cstime) of a process in clock ticks; (0, 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
