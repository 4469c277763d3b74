"""`ledger demo` on the test harness's database, with the simulated processor: every story
the demo promises is there, read through the account-health and invoice read models, and a
second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import Container, build
from adapters.cli.main import app as cli
from adapters.demo import (
    DEMO_ACCOUNTS,
    DemoNeedsSimulatedProcessor,
    Story,
    demo_account_ids,
    seed,
)
from adapters.settings import Settings
from commands import janitor
from commands.base import load_account
from commands.models import CommandContext
from ledger.invoices import DisplayStatus
from ledger.meta import ActorKind, Surface
from projections.feed import catch_up
from queries.health import AccountHealth, HealthState, get_health
from queries.invoices import InvoiceSummary, list_invoices

KEY = b"demo-test-cursor-key"


@pytest.fixture
def demo(database_url: str) -> Iterator[Container]:
    settings = Settings(database_url=database_url, pool_size=4, simulated_processor=True)
    with build(settings) as container:  # the process clock: the demo's "today" is now
        yield container


def caught_up(c: Container) -> None:
    for projection in c.projections.values():
        catch_up(c.connection, projection, c.reader)


def head(c: Container) -> int:
    with c.connection() as conn:
        row: Any = conn.execute("SELECT max(notification_id) FROM ledger_events").fetchone()
        return int(row[0])


def by_story(story: Story) -> list[UUID]:
    ids = demo_account_ids()
    return [ids[i] for i, a in enumerate(DEMO_ACCOUNTS) if a.story is story]


def health(c: Container, account_id: UUID) -> AccountHealth:
    with c.connection() as conn:
        found = get_health(conn, account_id, datetime.now(UTC))
    assert found is not None
    return found


def invoices(c: Container, account_id: UUID) -> list[InvoiceSummary]:
    with c.connection() as conn:
        return list_invoices(conn, account_id, KEY, datetime.now(UTC), size=100).items


def test_the_demo_tells_every_story_and_a_second_run_adds_nothing(
    demo: Container, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = seed(demo)
    caught_up(demo)
    assert len(first.opened) == len(DEMO_ACCOUNTS) >= 20
    assert first.recorded > len(DEMO_ACCOUNTS)
    assert first.walked_days == 120

    states = {s: [health(demo, a) for a in by_story(s)] for s in Story}
    assert {h.state for h in states[Story.PAYING]} == {HealthState.HEALTHY}
    assert [h.state for h in states[Story.CLOSED]] == [HealthState.CLOSED]
    assert [h.state for h in states[Story.BAD_DEBT]] == [HealthState.BAD_DEBT]
    assert [h.state for h in states[Story.DUNNING]] == [HealthState.PAST_DUE]
    (stuck,) = states[Story.STUCK]
    assert stuck.state is HealthState.STUCK
    assert "attempt_in_flight" in stuck.reasons
    assert stuck.attempt_in_flight_since is not None
    assert (datetime.now(UTC) - stuck.attempt_in_flight_since).total_seconds() > 3600
    (waiting,) = states[Story.THREE_DS]
    assert "awaiting_customer_action" in waiting.reasons
    (paypal,) = states[Story.PAYPAL]
    assert paypal.collection_path == "send_invoice"
    assert all(h.provider_links for h in states[Story.PAYING])

    (recovered,) = by_story(Story.RECOVERED)
    shown = [i.display_status for i in invoices(demo, recovered)]
    assert DisplayStatus.RECOVERED in shown
    assert health(demo, recovered).state is HealthState.HEALTHY
    paying = by_story(Story.PAYING)
    monthly = [i for i in paying if len(invoices(demo, i)) >= 4]
    assert len(monthly) >= 10  # four months of renewals
    yen = [i for a in paying for i in invoices(demo, a) if i.currency == "JPY"]
    assert yen
    assert {i.total for i in yen} == {2500}
    currencies = {h.currency for hs in states.values() for h in hs}
    assert {"USD", "EUR", "GBP", "JPY"} <= currencies
    names = {a.name for a in DEMO_ACCOUNTS}
    assert {"王芳", "فاطمة الزهراء", "Дмитрий Иванов"} <= names
    (disputed,) = by_story(Story.DISPUTE)
    account = load_account(demo.app, disputed)
    assert any(a.dispute is not None for a in account.attempts.values())
    (credited,) = by_story(Story.CREDITS)
    assert any(i.credit_applied > 0 for i in invoices(demo, credited))

    before = head(demo)
    again = seed(demo)
    assert (again.recorded, again.walked_days) == (0, 0)
    assert all(r.replayed for r in again.opened)
    assert head(demo) == before
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIMULATED_PROCESSOR", "true")
    by_cli = CliRunner().invoke(cli, ["demo"])
    assert by_cli.exit_code == 0, by_cli.output
    assert "0 demo accounts opened, 22 already there; 0 commands recorded" in by_cli.output
    assert head(demo) == before


def test_the_stuck_accounts_charge_is_found_at_the_simulated_processor(demo: Container) -> None:
    """The janitor asks the simulated processor about the attempt whose answer was lost: it
    kept the charge, so the attempt is recorded as paid and the account is no longer stuck."""
    seed(demo)
    (stuck,) = by_story(Story.STUCK)
    ctx = CommandContext(actor_id="janitor", actor_kind=ActorKind.SYSTEM, surface=Surface.CLI)
    resolved = janitor.resolve_in_flight(demo.deps, stuck, timedelta(minutes=15), ctx)
    assert [r.resolution for r in resolved] == [janitor.Resolution.SUCCEEDED]
    caught_up(demo)
    assert health(demo, stuck).state is HealthState.HEALTHY


def test_the_demo_refuses_to_run_on_a_real_processor_or_none(container: Container) -> None:
    with pytest.raises(DemoNeedsSimulatedProcessor):
        seed(container)
