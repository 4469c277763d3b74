"""`ledger serve` on the embedded default, as a real process: stopping it stops its
PostgreSQL, and a serve that was killed outright leaves nothing the next run trips over.

Processes are found by scanning /proc (the postmaster's command line names its data
directory), independently of how the ledger itself finds them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.harness import free_port, outside_pytest_tmp

LEDGER = Path(sys.executable).parent / "ledger"
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 30
METRICS_TOKEN = "serve-lifecycle-metrics"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Outside pytest's basetemp: the server runs as another user and needs to traverse it.
    with outside_pytest_tmp("ledger-serve-") as work_dir:
        yield work_dir
        _stop_leftovers(work_dir / "pg")


def ledger_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {
        **env,
        "LEDGER_DATA_DIR": str(data_dir),
        "LEDGER_LOG_JSON": "true",
        "LEDGER_METRICS_TOKEN": METRICS_TOKEN,
    }


def pgdata_of(data_dir: Path) -> Path:
    return (data_dir / "pg").resolve()


def postmasters(pgdata: Path) -> list[int]:
    """Pids of processes started as `postgres -D <pgdata>` (from /proc/<pid>/cmdline)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if b"-D" in argv and str(pgdata).encode() in argv and not _is_zombie(entry):
            found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _is_zombie(proc_dir: Path) -> bool:
    try:
        return (proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and not _is_zombie(Path(f"/proc/{pid}"))


def wait_gone(pids: list[int], timeout_s: float = STOP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while [p for p in pids if _alive(p)]:
        assert time.monotonic() < deadline, f"still running: {[p for p in pids if _alive(p)]}"
        time.sleep(0.1)


def _stop_leftovers(pgdata: Path) -> None:
    for pid in postmasters(pgdata):
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown, only after a failed test


class Serve:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.log = data_dir / f"serve-{self.port}.log"
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [str(LEDGER), "serve", "--port", str(self.port)],
                env=ledger_env(data_dir),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_answering(self) -> httpx.Response:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}: {self.tail()}"
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"serve did not answer in {START_TIMEOUT_S} s: {self.tail()}")

    def signal(self, sig: signal.Signals) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=STOP_TIMEOUT_S)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def wait_for_line(serve: Serve, text: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while text not in serve.log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"no {text} in {START_TIMEOUT_S} s: {serve.tail()}"
        time.sleep(0.1)


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LEDGER), *args],
        env=ledger_env(data_dir),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )


def a_later_run_starts_cleanly_and_leaves_nothing(data_dir: Path) -> None:
    listed = run_cli(data_dir, "accounts", "list")
    assert listed.returncode == 0, listed.stderr
    assert "account" in listed.stdout
    assert "Traceback" not in listed.stderr
    assert postmasters(pgdata_of(data_dir)) == []


@pytest.mark.parametrize(
    ("sig", "exit_code"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 0)]
)
def test_stopping_serve_stops_its_postgresql(
    data_dir: Path, sig: signal.Signals, exit_code: int
) -> None:
    serve = Serve(data_dir)
    assert serve.wait_answering().status_code == 200
    [postmaster] = postmasters(pgdata_of(data_dir))

    wait_for_line(serve, '"scheduler.active"')  # the scheduled jobs run in process
    scraped = httpx.get(
        f"{serve.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5
    )
    assert "billing_scheduler_active 1.0" in scraped.text
    assert 'billing_scheduled_job_failures_total{scheduled_job="billing_run"} 0.0' in scraped.text

    assert serve.signal(sig) == exit_code, serve.tail()

    wait_gone([postmaster, *children_of(postmaster)])
    assert postmasters(pgdata_of(data_dir)) == []
    assert "Traceback" not in serve.tail()
    assert '"scheduler.stopped"' in serve.log.read_text()
    a_later_run_starts_cleanly_and_leaves_nothing(data_dir)


def test_a_killed_serve_leaves_a_server_the_next_run_adopts_and_stops(data_dir: Path) -> None:
    serve = Serve(data_dir)
    serve.wait_answering()
    assert serve.signal(signal.SIGKILL) == -signal.SIGKILL
    # No cleanup could run: the server is left running, attached to a dead process.
    assert len(postmasters(pgdata_of(data_dir))) == 1
    assert str(serve.proc.pid) in (pgdata_of(data_dir) / ".handle_pids.json").read_text()

    a_later_run_starts_cleanly_and_leaves_nothing(data_dir)


@pytest.mark.parametrize("pid_in_lock_file", ["dead", "reused"])
def test_a_lock_file_of_a_dead_server_is_recovered(data_dir: Path, pid_in_lock_file: str) -> None:
    serve = Serve(data_dir)
    serve.wait_answering()
    pgdata = pgdata_of(data_dir)
    [postmaster] = postmasters(pgdata)
    backends = children_of(postmaster)
    serve.signal(signal.SIGKILL)
    os.kill(postmaster, signal.SIGKILL)  # power loss: the server dies without cleaning up
    wait_gone([postmaster, *backends])
    lock_file = pgdata / "postmaster.pid"
    assert lock_file.read_text().splitlines()[0] == str(postmaster)
    if pid_in_lock_file == "dead":
        a_later_run_starts_cleanly_and_leaves_nothing(data_dir)
        return
    lines = lock_file.read_text().splitlines()
    with subprocess.Popen(["sleep", "300"]) as stranger:  # the dead server's pid, reused
        lock_file.write_text("\n".join([str(stranger.pid), *lines[1:]]) + "\n")
        try:
            a_later_run_starts_cleanly_and_leaves_nothing(data_dir)
            assert stranger.poll() is None
        finally:
            stranger.kill()


def test_served_answers_carry_no_server_banner(data_dir: Path) -> None:
    serve = Serve(data_dir)
    try:
        answers = [
            serve.wait_answering(),
            httpx.get(f"{serve.url}/no-such-route", timeout=5),
            httpx.get(f"{serve.url}/support/accounts/{uuid4()}", timeout=5),
        ]
        assert [a.status_code for a in answers] == [200, 404, 401]
        for answer in answers:
            assert "server" not in answer.headers, answer.headers
    finally:
        serve.signal(signal.SIGTERM)
