"""The batched billing run on PostgreSQL: a page of accounts loads in two queries exactly
as the repository loads each (snapshots included), and a rival's write between the page's
load and its save leaves that account to be billed on its own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.postgres.page_load import load_page
from commands import accounts, credits, dunning
from commands.application import SNAPSHOT_INTERVAL
from commands.base import Deps, load_account
from commands.models import GrantCredit, RunBilling, UpdateProfile
from tests.fakes.builders import system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.fleet import CTX, KINDS, build_fleet
from tests.fakes.gateway import FakeGateway


def _state(account: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(account).items() if k != "_pending_events"}


def test_a_page_loads_as_the_repository_loads_each_account(
    deps: Deps, gateway: FakeGateway
) -> None:
    ids = build_fleet(deps, gateway, KINDS)
    busy = ids[0]
    for n in range(SNAPSHOT_INTERVAL + 5):  # past a snapshot
        cmd = UpdateProfile(account_id=busy, name=f"Name {n}")
        accounts.update_profile(deps, cmd, CTX)
    missing = UUID(int=7)
    page = load_page(deps.app, [*ids, missing])
    assert set(page) == set(ids)
    assert deps.app.snapshots is not None
    assert list(deps.app.snapshots.get(busy))
    for account_id in ids:
        assert _state(page[account_id]) == _state(load_account(deps.app, account_id))


def test_a_rival_write_between_load_and_save_bills_that_account_alone(
    deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> None:
    ids = build_fleet(deps, gateway, KINDS)
    poisoned = ids[4]
    real_save = deps.app.save
    armed = [True]

    def save(*objs: Any, **kwargs: Any) -> Any:
        if armed[0]:
            armed[0] = False
            grant = GrantCredit(account_id=poisoned, amount=100, currency="USD")
            credits.grant_credit(deps, grant, CTX)
        return real_save(*objs, **kwargs)

    deps.app.save = save  # type: ignore[method-assign]
    clock.advance(days=31)
    report = dunning.run_billing(deps, RunBilling(account_ids=ids), system_ctx())
    assert report.errors == {str(ids[8]): "ProcessorUnavailable: timed out"}
    assert report.renewed == 6
    account = load_account(deps.app, poisoned)
    assert [c.granted.amount for c in account.credits.values()] == [100]
    assert len(account.invoices) == 2
    assert {str(a) for a in ids} == set(report.reached)
