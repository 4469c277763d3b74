"""`ledger billing resolve-in-flight` finds a wait for the customer (3-D Secure) through the
health read model only once it has expired, and never records an expiry it could not
cancel at the processor first."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.main import app
from commands.base import Deps, load_account
from projections.feed import catch_up
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.gateway import FakeGateway

runner = CliRunner()


def test_an_expired_wait_is_found_and_left_waiting_when_it_cannot_be_cancelled(
    container: Container,
    deps: Deps,
    gateway: FakeGateway,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id = usd_account(deps)
    gateway.require_action_next(CARD)
    result = subscribe(deps, account_id)  # at the test clock's 2026-01-01: long expired now
    assert result.payment is not None
    catch_up(container.connection, container.projections["health"], container.reader)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)

    answer = runner.invoke(app, ["billing", "resolve-in-flight"])

    # the CLI has no processor configured: it cannot cancel, so it records nothing
    assert answer.exit_code == 1, answer.output
    printed = " ".join(answer.output.split())  # the console wraps long lines
    assert f"{account_id} {result.payment.attempt_id}: unreachable" in printed
    assert "1 accounts; unreachable 1" in printed
    attempt = load_account(deps.app, account_id).attempts[result.payment.attempt_id]
    assert attempt.awaiting_customer
