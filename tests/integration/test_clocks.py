"""Test clocks on the real store with the simulated processor: months of renewals and a
whole dunning schedule walked in seconds by advancing a clock; the clock only moves
forward, attaches only to accounts without billing history, and is refused in production
settings; the CLI drives it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import Container, build
from adapters.cli.main import app as cli
from adapters.clock_registry import (
    AccountHasHistory,
    ClockCannotGoBack,
    ClockRegistry,
    TestClocksRefused,
)
from adapters.clock_walk import advance, registry
from adapters.settings import Settings
from commands import accounts, billing, vaulting
from commands.base import load_account
from commands.models import AddVaultedCard, Subscribe
from ledger.errors import ReasonRequired
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptStatus
from tests.fakes.builders import customer_ctx, open_cmd
from tests.fakes.clock import FixedClock
from tests.fakes.settings import PRODUCTION

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture
def sim(database_url: str, clock: FixedClock) -> Iterator[Container]:
    settings = Settings(database_url=database_url, pool_size=4, simulated_processor=True)
    built = build(settings, clock=clock)
    yield built
    built.close()


def clocked_account(c: Container, clock_id: str, card: str) -> UUID:
    """An account attached to the clock, then given a card and a monthly plan."""
    deps = c.deps
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    registry(c).attach(load_account(c.app, account_id), clock_id, "dev", "trying renewals")
    add = AddVaultedCard(account_id=account_id, payment_method=card)
    vaulting.add_vaulted_card(deps, add, customer_ctx())
    cmd = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False)
    billing.subscribe(deps, cmd, customer_ctx())
    return account_id


def test_advancing_a_clock_walks_months_of_renewals(sim: Container) -> None:
    clock = registry(sim).new("renewals", START)
    account_id = clocked_account(sim, clock.clock_id, "pm_card_visa")
    walk = advance(sim, clock.clock_id, START + timedelta(days=95), actor="dev")
    assert (walk.steps, walk.renewed, walk.errors) == (95, 3, 0)
    account = load_account(sim.app, account_id)
    invoices = sorted(account.invoices.values(), key=lambda i: i.created_at)
    assert [i.status for i in invoices] == [InvoiceStatus.PAID] * 4
    assert [i.created_at.date().isoformat() for i in invoices] == [
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
        "2026-04-01",
    ]
    (sub,) = account.subscriptions.values()
    assert sub.period_end == datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_advancing_a_clock_walks_a_dunning_schedule_to_uncollectible(sim: Container) -> None:
    clock = registry(sim).new("dunning", START)
    account_id = clocked_account(sim, clock.clock_id, "pm_card_chargeCustomerFail")
    walk = advance(sim, clock.clock_id, START + timedelta(days=10), actor="dev")
    assert (walk.attempts, walk.exhausted, walk.errors) == (4, 1, 0)
    account = load_account(sim.app, account_id)
    (invoice,) = account.invoices.values()
    assert invoice.status is InvoiceStatus.UNCOLLECTIBLE
    tried = sorted(a.started_at for a in account.attempts.values())
    assert [(t - START).days for t in tried] == [0, 1, 3, 5, 7]
    assert {a.status for a in account.attempts.values()} == {AttemptStatus.FAILED}
    assert account.bad_debt


def test_an_unattached_account_bills_at_the_process_clock(sim: Container) -> None:
    clock = registry(sim).new("other", START)
    deps = sim.deps
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    add = AddVaultedCard(account_id=account_id, payment_method="pm_card_visa")
    vaulting.add_vaulted_card(deps, add, customer_ctx())
    cmd = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False)
    billing.subscribe(deps, cmd, customer_ctx())
    advance(sim, clock.clock_id, START + timedelta(days=40), actor="dev")
    assert len(load_account(sim.app, account_id).invoices) == 1


def test_a_clock_only_moves_forward_and_attaches_before_any_history(sim: Container) -> None:
    clocks = registry(sim)
    clock = clocks.new("rules", START)
    with pytest.raises(ClockCannotGoBack):
        advance(sim, clock.clock_id, START - timedelta(days=1), actor="dev")
    billed = clocked_account(sim, clock.clock_id, "pm_card_visa")
    other = clocks.new("other", START)
    with pytest.raises(AccountHasHistory):
        clocks.attach(load_account(sim.app, billed), other.clock_id, "dev", "move it")
    clocks.attach(load_account(sim.app, billed), clock.clock_id, "dev", "again")  # same: safe
    fresh = accounts.open_account(sim.deps, open_cmd(), customer_ctx()).account_id
    with pytest.raises(ReasonRequired):
        clocks.attach(load_account(sim.app, fresh), clock.clock_id, "dev", " ")
    assert [c.accounts for c in clocks.all()] == [1, 0]


def test_test_clocks_are_refused_in_production_settings(database_url: str) -> None:
    settings = Settings(database_url=database_url, pool_size=2, **PRODUCTION)
    with build(settings) as production:
        assert production.clocks is None
        assert production.deps.account_clocks is None
        with pytest.raises(TestClocksRefused):
            registry(production)
        with pytest.raises(TestClocksRefused):
            ClockRegistry(production.pool, settings)


def test_the_cli_makes_attaches_advances_and_lists_clocks(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIMULATED_PROCESSOR", "true")
    made = runner.invoke(cli, ["clocks", "new", "cli", "--start", "2026-01-01T12:00:00+00:00"])
    assert made.exit_code == 0, made.output
    match = re.search(r"clock_\w+", made.output)
    assert match is not None
    clock_id = match.group(0)
    with build(Settings(database_url=database_url, pool_size=2)) as c:
        account_id = accounts.open_account(c.deps, open_cmd(), customer_ctx()).account_id
    refused = runner.invoke(cli, ["clocks", "attach", clock_id, str(account_id), "--reason", ""])
    assert refused.exit_code != 0
    attached = runner.invoke(
        cli, ["clocks", "attach", clock_id, str(account_id), "--reason", "demo walk"]
    )
    assert attached.exit_code == 0, attached.output
    moved = runner.invoke(cli, ["clocks", "advance", clock_id, "--days", "3"])
    assert moved.exit_code == 0, moved.output
    assert "steps=3" in moved.output
    assert "2026-01-04T12:00:00+00:00" in moved.output
    listed = runner.invoke(cli, ["clocks", "list"])
    assert f"{clock_id} cli at 2026-01-04T12:00:00+00:00 accounts=1" in listed.output
    back = runner.invoke(cli, ["clocks", "advance", clock_id, "--to", "2026-01-02T00:00:00"])
    assert back.exit_code != 0
    assert "test_clock_cannot_go_back" in back.output
