"""`ledger billing resolve-in-flight` on the real store: pending attempts found through the
health read model and resolved by asking the configured processor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.main import app
from commands import billing, janitor
from commands.base import Deps, load_account
from commands.models import Subscribe
from commands.ports import ProcessorUnavailable
from ledger.payments import AttemptStatus
from projections.feed import catch_up
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.gateway import FakeGateway

runner = CliRunner()


def test_the_janitor_resolves_attempts_left_pending_by_an_outage(
    container: Container,
    deps: Deps,
    gateway: FakeGateway,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id = usd_account(deps)
    gateway.go_down_next(CARD)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(
            deps, Subscribe(account_id=account_id, plan_id=PLAN, on_session=False), customer_ctx()
        )
    catch_up(container.connection, container.projections["health"], container.reader)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)

    result = runner.invoke(app, ["billing", "resolve-in-flight"])

    # no processor is configured for the CLI: it cannot know, so it records nothing
    assert result.exit_code == 1, result.output
    assert "unreachable 1" in result.output
    [attempt] = load_account(deps.app, account_id).attempts.values()
    assert attempt.in_flight


def test_the_janitor_records_what_the_processor_says(
    container: Container, deps: Deps, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    gateway.go_down_next(CARD)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(
            deps, Subscribe(account_id=account_id, plan_id=PLAN, on_session=False), customer_ctx()
        )
    [resolved] = janitor.resolve_in_flight(deps, account_id, timedelta(0), system_ctx())
    assert resolved.resolution is janitor.Resolution.NOT_RECEIVED
    [attempt] = load_account(deps.app, account_id).attempts.values()
    assert (attempt.status, attempt.decline_code) == (AttemptStatus.FAILED, janitor.NOT_RECEIVED)
    assert janitor.resolve_in_flight(deps, account_id, timedelta(0), system_ctx()) == []
