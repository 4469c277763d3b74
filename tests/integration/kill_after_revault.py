"""Run as `python -m tests.integration.kill_after_revault ACCOUNT_ID`: runs the PayPal token
migration for one account and SIGKILLs itself the moment Braintree has vaulted the billing
agreement, before the event is recorded (a crash at the worst point). Configuration comes
from the LEDGER_* environment, as for the `ledger` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from uuid import UUID

from adapters.bootstrap import build
from adapters.settings import Settings
from adapters.throttle import Throttle
from commands.base import CommandResult, Deps
from commands.models import CommandContext, MigrateToken
from commands.paypal_migration import TokenMigration
from tests.fakes.builders import support_ctx


def die(_deps: Deps, _cmd: MigrateToken, _ctx: CommandContext) -> CommandResult:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable: the process is dead")


def revault_and_die(env: dict[str, str], account_id: UUID) -> None:
    """Runs this module in a child process; returns once it was SIGKILLed after Braintree
    vaulted (raises if it ended any other way)."""
    child = subprocess.run(
        [sys.executable, "-m", __name__, str(account_id)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env, "LEDGER_LOG_JSON": "true"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    if child.returncode != -signal.SIGKILL:
        raise AssertionError(f"exit {child.returncode}: {child.stderr.decode()[-2000:]}")


def main() -> None:
    container = build(Settings())
    if container.paypal is None:
        raise SystemExit("LEDGER_BRAINTREE_* is not configured")
    ctx = support_ctx("paypal token migration")
    job = TokenMigration(container.deps, container.paypal, Throttle("10/second"), ctx, record=die)
    job.run([UUID(sys.argv[1])])


if __name__ == "__main__":
    main()
