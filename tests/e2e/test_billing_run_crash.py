"""A month-end billing run (`ledger billing run`, a page of accounts per transaction) is
SIGKILLed in the middle, then run again to the end: every due subscription is renewed
exactly once, every renewal invoice has at most one attempt (an attempt the killed run
started and never settled stays pending for the janitor, never started again), and every
account is billed."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from uuid import UUID

import psycopg

from adapters.bootstrap import build
from adapters.settings import Settings
from bench.month_end import build_fleet
from commands.base import load_account
from tests.e2e.conftest import LedgerEnv, ledger_program

ACCOUNTS = 3_000
KILL_AFTER_EVENTS = 2_000  # a few pages committed, most of the run still to do
TIMEOUT_S = 300.0


def _events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
    return int(row[0]) if row else 0


def _billing_run(env: LedgerEnv, ids: list[UUID]) -> subprocess.Popen[bytes]:
    args = [str(ledger_program()), "billing", "run"]
    for account_id in ids:
        args += ["--account", str(account_id)]
    with (env.work_dir / "billing-run.log").open("ab") as sink:
        return subprocess.Popen(
            args, env=env.process_env(), stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def test_a_billing_run_killed_mid_run_then_rerun_records_nothing_twice(
    ledger_env: LedgerEnv,
) -> None:
    settings = Settings(database_url=ledger_env.database_url)
    container = build(settings)
    try:
        ids = build_fleet(container.deps, ACCOUNTS, 0)
        before = _events(ledger_env.database_url)
        killed = _billing_run(ledger_env, ids)
        deadline = time.monotonic() + TIMEOUT_S
        while _events(ledger_env.database_url) < before + KILL_AFTER_EVENTS:
            assert killed.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        killed.kill()
        assert killed.wait(timeout=30) == -9
        assert _events(ledger_env.database_url) < before + 5 * ACCOUNTS  # killed mid-run
        rerun = _billing_run(ledger_env, ids)
        assert rerun.wait(timeout=TIMEOUT_S) == 0, (
            ledger_env.work_dir / "billing-run.log"
        ).read_text()[-3000:]
        for account_id in ids:
            account = load_account(container.app, account_id)
            assert len(account.invoices) == 2  # the first, and one renewal
            attempts = Counter(a.invoice_id for a in account.attempts.values())
            assert all(n == 1 for n in attempts.values())
            assert len(attempts) == 2
            [sub] = account.subscriptions.values()
            assert sub.period_end > container.deps.clock.now()
    finally:
        container.close()
