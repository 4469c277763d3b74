"""Run as `python -m tests.integration.kill_after_charge ACCOUNT_ID`: collects a new
off-session subscription through the configured processor and SIGKILLs itself the moment
the processor has answered the charge, before the outcome is recorded (a crash at the worst
point). Configuration comes from the LEDGER_* environment, as for the `ledger` command."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path
from uuid import UUID

from adapters.bootstrap import build
from adapters.settings import Settings
from commands.ports import ChargeRequest, ChargeResult, PaymentGateway, RefundRequest
from ledger.payments import Processor
from tests.fakes.billing import subscribe


class DiesAfterCharging:
    def __init__(self, real: PaymentGateway) -> None:
        self._real = real

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self._real.charge(request)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable: the process is dead")

    def refund(self, request: RefundRequest) -> str:
        return self._real.refund(request)

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        return self._real.find_charge(attempt_id, processor)

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        return self._real.cancel_charge(attempt_id, processor, processor_payment_id)


def charge_and_die(database_url: str, stripe_url: str, api_key: str, account_id: UUID) -> None:
    """Runs this module in a child process against localstripe; returns once it was
    SIGKILLed after charging (raises if it ended any other way)."""
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_STRIPE_API_KEY": api_key,
        "LEDGER_STRIPE_API_BASE": stripe_url,
        "LEDGER_STRIPE_LOOKUP": "list",
        "LEDGER_LOG_JSON": "true",
    }
    child = subprocess.run(
        [sys.executable, "-m", __name__, str(account_id)],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if child.returncode != -signal.SIGKILL:
        raise AssertionError(f"exit {child.returncode}: {child.stderr.decode()[-2000:]}")


def main() -> None:
    account_id = UUID(sys.argv[1])
    container = build(Settings())
    deps = dataclasses.replace(container.deps, gateway=DiesAfterCharging(container.deps.gateway))
    subscribe(deps, account_id, on_session=False)


if __name__ == "__main__":
    main()
