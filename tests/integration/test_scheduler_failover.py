"""Two `ledger scheduler` processes on one database: one runs the jobs, the other stands
by; SIGKILL the active one and the standby takes over (PostgreSQL ends the dead session
and its advisory lock). Each process's own /metrics says which one is active."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import free_port

LEDGER = Path(sys.executable).parent / "ledger"
TIMEOUT_S = 60.0


class SchedulerProcess:
    def __init__(self, database_url: str, log: Path) -> None:
        self.port = free_port()
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        env |= {
            "LEDGER_DATABASE_URL": database_url,
            "LEDGER_LOG_JSON": "true",
            "LEDGER_SCHEDULER_LOCK_POLL_S": "0.2",
            "LEDGER_SCHEDULER_JANITOR_S": "0.3",
        }
        with log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [str(LEDGER), "scheduler", "--metrics-port", str(self.port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def metric(self, name: str, **labels: str) -> float | None:
        """The sample's value on the process's /metrics (None: not answering yet)."""
        try:
            text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2).text
        except httpx.TransportError:
            return None
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name and s.labels == labels:
                    return s.value
        return None

    def active(self) -> float | None:
        return self.metric("billing_scheduler_active")

    def janitor_runs(self) -> float:
        runs = self.metric("billing_scheduled_job_duration_seconds_count", scheduled_job="janitor")
        return runs or 0.0

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def processes(database_url: str, tmp_path: Path) -> Iterator[Callable[[str], SchedulerProcess]]:
    started: list[SchedulerProcess] = []

    def start(name: str) -> SchedulerProcess:
        started.append(SchedulerProcess(database_url, tmp_path / f"{name}.log"))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def wait_until(done: Callable[[], bool], what: str, *logs: SchedulerProcess) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        tails = "\n".join(p.tail() for p in logs)
        assert time.monotonic() < deadline, f"not within {TIMEOUT_S} s: {what}\n{tails}"
        time.sleep(0.1)


def test_one_scheduler_runs_and_a_standby_takes_over_when_it_is_killed(
    processes: Callable[[str], SchedulerProcess],
) -> None:
    first = processes("first")
    wait_until(lambda: first.active() == 1 and first.janitor_runs() >= 2, "first runs", first)
    second = processes("second")
    wait_until(lambda: second.active() == 0, "second answers, standing by", second)

    time.sleep(1.0)  # several janitor intervals and standby polls
    assert (first.active(), second.active()) == (1, 0)
    assert second.janitor_runs() == 0
    assert '"scheduler.standby"' in second.tail()

    first.proc.send_signal(signal.SIGKILL)
    assert first.proc.wait(timeout=10) == -signal.SIGKILL
    wait_until(
        lambda: second.active() == 1 and second.janitor_runs() >= 2, "second took over", second
    )
    last_success = second.metric(
        "billing_scheduled_job_last_success_timestamp_seconds", scheduled_job="janitor"
    )
    assert last_success is not None
    assert time.time() - 30 < last_success <= time.time()

    second.proc.send_signal(signal.SIGTERM)
    assert second.proc.wait(timeout=30) == 0, second.tail()
    assert '"scheduler.stopped"' in second.tail()
    assert "Traceback" not in second.tail()
