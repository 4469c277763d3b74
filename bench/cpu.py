"""Whose CPU time: the machine's busy share during a stage, and the part of it that was not
this run's (this process, its children, and the PostgreSQL server it started): other work
on the machine, which skews that stage's numbers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuShare:
    busy: float  # share of all cores busy, whoever did the work: 1.0 = every core, always
    others: float  # the part of `busy` spent by processes outside this run


@dataclass(frozen=True)
class Sample:
    busy: int
    total: int
    ours: dict[int, int]  # pid -> user + system ticks, for this run's processes


def run_marker() -> str:
    """Part of the work directory's name, so the servers' command lines identify this run."""
    return f"ledger-bench-{os.getpid()}-"


def cpu_times() -> tuple[int, int]:
    """(busy, total) ticks of all cores since boot."""
    first = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0]
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    fields = [int(x) for x in first.split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, user + system ticks)."""
    found: dict[int, tuple[str, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue  # gone meanwhile
        name, rest = stat.split(" (", 1)[1].rsplit(")", 1)
        fields = rest.split()
        found[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def _is_root(pid: int, name: str, marker: str) -> bool:
    """This process, or the PostgreSQL server of this run (pg_ctl detached it from us)."""
    if pid == os.getpid():
        return True
    if name != "postgres":
        return False
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def sample() -> Sample:
    busy, total = cpu_times()
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    marker = run_marker()
    todo = [pid for pid, (name, _, _) in processes.items() if _is_root(pid, name, marker)]
    ours: dict[int, int] = {}
    while todo:
        pid = todo.pop()
        if pid not in ours:
            ours[pid] = processes[pid][2]
            todo += children.get(pid, [])
    return Sample(busy, total, ours)


def share(before: Sample, after: Sample) -> CpuShare:
    """Processes of this run that ended in between are lost, and so counted as others'."""
    total = max(1, after.total - before.total)
    busy = after.busy - before.busy
    ours = sum(ticks - before.ours.get(pid, 0) for pid, ticks in after.ours.items())
    return CpuShare(round(busy / total, 3), round(max(0, busy - ours) / total, 3))
