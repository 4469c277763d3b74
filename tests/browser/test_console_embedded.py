"""`ledger serve` on the embedded default (what `./scripts/run` runs), as a real process:
it prints a console sign-in link beside the development API keys, the link opens the
console in chromium, and `ledger console link` run beside it makes another."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.harness import free_port, outside_pytest_tmp

LEDGER = Path(sys.executable).parent / "ledger"
LINK = re.compile(r"sign-in link: (http://\S+/console/sign-in\?token=\S+)")
START_TIMEOUT_S = 90


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Outside pytest's basetemp: the embedded server runs as another user and traverses it.
    with outside_pytest_tmp("ledger-console-") as work_dir:
        yield work_dir


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {**env, "LEDGER_DATA_DIR": str(data_dir), "LEDGER_LOG_JSON": "true"}


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """`ledger serve` on a free port; yields the link it printed and its log."""
    proc, log = start_serve(data_dir, free_port())
    try:
        yield _printed_link(proc, log), log
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def start_serve(data_dir: Path, port: int, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    """`ledger serve --port PORT [ARGS]` on the embedded default in `data_dir`, its output
    in the log it returns."""
    log = data_dir / "serve.log"
    with log.open("ab") as sink:
        proc = subprocess.Popen(
            [str(LEDGER), "serve", "--port", str(port), *args],
            env=env_for(data_dir),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, log


def _printed_link(proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = LINK.search(text)
        if found and _answers(found.group(1).split("/console")[0]):
            return found.group(1)
        assert proc.poll() is None, f"serve exited {proc.returncode}: {text[-3000:]}"
        time.sleep(0.2)
    raise AssertionError(f"no console link in {START_TIMEOUT_S} s: {log.read_text()[-3000:]}")


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_prints_a_link_that_opens_the_console(
    page: Page, served: tuple[str, Path], data_dir: Path
) -> None:
    link, log = served
    assert "Authorization: Bearer lk_service_" in log.read_text()  # the keys are still printed
    assert "customer billing pages: `ledger portal link ACCOUNT_ID`" in log.read_text()  # no demo
    page.goto(link)
    expect(page.get_by_test_id("signed-in-as")).to_have_text("dev-support-agent")
    made = subprocess.run(
        [
            str(LEDGER),
            "console",
            "link",
            "dev-support-agent",
            "--base-url",
            link.split("/console")[0],
        ],
        env=env_for(data_dir),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    second = page.context.browser
    assert second is not None
    fresh = second.new_context().new_page()
    fresh.goto(made.stdout.splitlines()[0])
    expect(fresh.get_by_test_id("signed-in-as")).to_have_text("dev-support-agent")
    fresh.context.close()
