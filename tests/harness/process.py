"""Starting, waiting for and stopping the service processes of the harness."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

TAIL_LINES = 60


class ServiceStartError(RuntimeError):
    """A service of the harness did not start; the message carries the tail of its log."""


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    """Return the last `lines` lines of a log file, or a note that it is missing."""
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def start_failure(service: str, reason: str, log: Path) -> ServiceStartError:
    """Build the error raised when `service` fails to start."""
    return ServiceStartError(
        f"{service} failed to start: {reason}\n--- last lines of {log} ---\n{log_tail(log)}"
    )


def spawn(argv: Sequence[str], log: Path, *, cwd: Path) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session with stdout and stderr appended to `log`."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout_s: float,
    alive: Callable[[], bool],
    interval_s: float = 0.05,
) -> str | None:
    """Poll `ready` until it holds; return None then, or why it never did."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            return "the process exited"
        if ready():
            return None
        time.sleep(interval_s)
    return f"not ready within {timeout_s:.0f} s"


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """Stop a process started by `spawn`: SIGTERM, wait, then SIGKILL its whole group."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=timeout_s)
