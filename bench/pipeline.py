"""`ledger relay` and `ledger project` as subprocesses, as they run in production."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.services import PARTITIONS, Services
from tests.harness.process import log_tail

STOP_TIMEOUT_S = 30


def _ledger() -> str:
    beside = Path(sys.executable).with_name("ledger")
    found = str(beside) if beside.exists() else shutil.which("ledger")
    if found is None:
        raise RuntimeError("no `ledger` script: run `uv sync`")
    return found


def _env(services: Services) -> dict[str, str]:
    return {
        **os.environ,
        "LEDGER_DATABASE_URL": services.dsn,
        "LEDGER_KAFKA_BOOTSTRAP": services.bootstrap,
        "LEDGER_TOPIC": services.topic,
        "LEDGER_TOPIC_PARTITIONS": str(PARTITIONS),
        "LEDGER_LOG_JSON": "true",
        "LEDGER_LOG_LEVEL": "WARNING",
    }


@contextmanager
def ledger_process(services: Services, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    log = services.work_dir / f"ledger-{args[0]}.log"
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [_ledger(), *args], env=_env(services), stdin=subprocess.DEVNULL,
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield proc
    finally:
        exited = proc.poll()
        if exited is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        elif exited != 0:
            print(f"`ledger {args[0]}` exited {exited}:\n{log_tail(log)}", file=sys.stderr)


@contextmanager
def running_pipeline(services: Services) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The relay and the `accounts` projector, stopped with SIGTERM on exit."""
    with ExitStack() as stack:
        relay = stack.enter_context(ledger_process(services, "relay"))
        projector = stack.enter_context(
            ledger_process(services, "project", "--projection", "accounts")
        )
        yield [relay, projector]
