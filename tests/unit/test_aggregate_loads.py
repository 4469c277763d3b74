"""How many times a command loads the account aggregate: each step acts on the account the
step before it saved, so a command loads once (and again only after a conflict). Before
this rule, paying bad debt on n invoices loaded it 2 + 4n times (one more per declined
charge), paying an invoice 4 times, and the billing run 2 + 4 per retry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import bad_debt, billing, dunning
from commands.base import Deps, load_account
from commands.collect import collect_on
from commands.janitor import record_if_in_flight
from commands.models import PayBadDebt, PayInvoice, RunBilling, Subscribe
from commands.ports import ChargeResult
from ledger.invoices import InvalidTransition, InvoiceStatus
from ledger.payments import AttemptPurpose, AttemptStatus
from tests.fakes.billing import CARD, PLAN, subscribe, usd_account
from tests.fakes.builders import customer_ctx, in_memory_deps, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


@dataclass(frozen=True)
class World:
    deps: Deps
    gateway: FakeGateway
    clock: FixedClock


@pytest.fixture
def world() -> World:
    clock, gateway = FixedClock(), FakeGateway()
    return World(in_memory_deps(clock, gateway), gateway, clock)


class Loads:
    def __init__(self) -> None:
        self.count = 0


@contextmanager
def counted(deps: Deps) -> Iterator[Loads]:
    """Counts the application's repository `get` calls that load the account's head (every
    load by a handler); the library's own loads at a version, to take a snapshot every
    SNAPSHOT_INTERVAL events, are not the handlers' and are not counted."""
    repository = deps.app.repository
    real: Callable[..., Any] = repository.get
    loads = Loads()

    def get(*args: Any, **kwargs: Any) -> Any:
        loads.count += "version" not in kwargs
        return real(*args, **kwargs)

    repository.get = get  # type: ignore[method-assign]
    try:
        yield loads
    finally:
        del repository.get


def in_bad_debt(world: World, invoices: int) -> UUID:
    """An account with `invoices` uncollectible invoices (dunning exhausted on each)."""
    deps, gateway, clock = world.deps, world.gateway, world.clock
    account_id = usd_account(deps)
    gateway.always_decline(CARD, "insufficient_funds")
    for _ in range(invoices):
        cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
        billing.subscribe(deps, cmd, customer_ctx())
    clock.advance(days=1)
    for _ in range(10):
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
        clock.advance(days=1)
    account = load_account(deps.app, account_id)
    uncollectible = [
        i for i in account.invoices.values() if i.status is InvoiceStatus.UNCOLLECTIBLE
    ]
    assert len(uncollectible) == invoices
    gateway._always.clear()
    return account_id


@pytest.mark.parametrize("invoices", [1, 3])
def test_paying_bad_debt_loads_the_account_once(world: World, invoices: int) -> None:
    account_id = in_bad_debt(world, invoices)
    with counted(world.deps) as loads:
        report = bad_debt.pay_bad_debt(
            world.deps, PayBadDebt(account_id=account_id), customer_ctx(uuid4())
        )
    assert (len(report.recovered), report.bad_debt) == (invoices, False)
    assert loads.count == 1


def test_a_declined_bad_debt_payment_loads_the_account_once(world: World) -> None:
    account_id = in_bad_debt(world, 2)
    world.gateway.decline_next(CARD, "insufficient_funds")
    with counted(world.deps) as loads:
        report = bad_debt.pay_bad_debt(
            world.deps, PayBadDebt(account_id=account_id), customer_ctx(uuid4())
        )
    assert (len(report.recovered), len(report.still_uncollectible)) == (1, 1)
    assert loads.count == 1


def test_a_repeated_bad_debt_payment_loads_the_account_once(world: World) -> None:
    account_id = in_bad_debt(world, 2)
    key = uuid4()
    first = bad_debt.pay_bad_debt(world.deps, PayBadDebt(account_id=account_id), customer_ctx(key))
    with counted(world.deps) as loads:
        again = bad_debt.pay_bad_debt(
            world.deps, PayBadDebt(account_id=account_id), customer_ctx(key)
        )
    assert again.recovered == first.recovered
    assert loads.count == 1


def test_paying_an_invoice_loads_the_account_once(world: World) -> None:
    account_id = usd_account(world.deps)
    world.gateway.decline_next(CARD, "insufficient_funds")
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    invoice_id = billing.subscribe(world.deps, cmd, customer_ctx()).invoice_id
    assert invoice_id is not None
    pay = PayInvoice(account_id=account_id, invoice_id=invoice_id)
    with counted(world.deps) as loads:
        billing.pay_invoice(world.deps, pay, customer_ctx(uuid4()))
    assert loads.count == 1


def test_a_billing_run_loads_each_account_once(world: World) -> None:
    """Renewing and expiring credit loads the account; dunning acts on the account renewing
    saved, and each retry on the account the retry before saved."""
    account_id = usd_account(world.deps)
    world.gateway.decline_next(
        CARD, "insufficient_funds", "insufficient_funds", "insufficient_funds"
    )
    for _ in range(3):
        cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
        billing.subscribe(world.deps, cmd, customer_ctx())
    world.clock.advance(days=1)
    with counted(world.deps) as loads:
        report = dunning.run_billing(world.deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert (len(report.attempts), report.errors) == (3, {})
    assert loads.count == 1


def test_a_purchase_that_charges_loads_the_account_once(world: World) -> None:
    account_id = usd_account(world.deps)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=True)
    key = uuid4()
    with counted(world.deps) as loads:
        first = billing.subscribe(world.deps, cmd, customer_ctx(key))
        again = billing.subscribe(world.deps, cmd, customer_ctx(key))
    assert first.payment is not None
    assert again.payment is not None
    assert (again.result.replayed, again.payment.attempt_id) == (True, first.payment.attempt_id)
    assert loads.count == 2  # one per request


def test_a_step_refused_on_an_account_the_store_has_moved_past_decides_again(
    world: World,
) -> None:
    """A step acts on the account the step before saved; if a webhook recorded something
    meanwhile and the step is refused on the older account, it decides again on the stored
    one, as a step that loaded the account would have."""
    account_id = usd_account(world.deps)
    world.gateway.require_action_next(CARD)
    first = subscribe(world.deps, account_id, on_session=False).payment
    assert first is not None
    waiting = first.attempt_id, first.invoice_id
    held = load_account(world.deps.app, account_id)  # what a previous step saved
    failed = ChargeResult(succeeded=False, decline_code="authentication_failed")
    assert record_if_in_flight(world.deps, account_id, waiting[0], failed, system_ctx())
    with counted(world.deps) as loads:
        outcome, _ = collect_on(
            world.deps,
            held,
            waiting[1],
            None,
            AttemptPurpose.COLLECTION,
            "again",
            customer_ctx(),
        )
    assert outcome.status is AttemptStatus.SUCCEEDED
    assert loads.count == 1  # the refusal on the held account, then one load
    with pytest.raises(InvalidTransition):  # a refusal on the stored account stays one
        collect_on(
            world.deps,
            load_account(world.deps.app, account_id),
            waiting[1],
            None,
            AttemptPurpose.COLLECTION,
            "once-more",
            customer_ctx(),
        )
