"""The plan-change preview is what the change then charges or credits: the same lines, the
same credit applied, the same amount charged, at any moment of the period, in a currency
with minor units and in one without (JPY); refused when the change would be."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands import accounts, bad_debt, billing, credits, methods
from commands.base import Deps, load_account
from commands.catalogue import DEFAULT_PLANS, StaticCatalogue
from commands.models import (
    AddCard,
    CancelSubscription,
    ChangePlan,
    GrantCredit,
    MarkUncollectible,
    Subscribe,
)
from commands.plan_preview import PlanPreview, preview_plan_change
from ledger.errors import BadDebtBlocked
from ledger.money import CurrencyMismatch, Money
from ledger.subscriptions import QUOTE_VALID_FOR, Plan, QuoteExpired, SamePlan
from tests.fakes.billing import CARD
from tests.fakes.builders import customer_ctx, in_memory_deps, open_cmd, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

PLANS = (
    *DEFAULT_PLANS,
    Plan("business-monthly-jpy", "Business", 1, Money(9800, "JPY")),
    Plan("pro-yearly-jpy", "Pro", 12, Money(25000, "JPY")),
)
# (currency, plan subscribed, plan changed to): upgrades charge, downgrades credit.
CHANGES = (
    ("USD", "pro-monthly-usd", "business-monthly-usd"),
    ("USD", "business-monthly-usd", "pro-monthly-usd"),
    ("USD", "pro-monthly-usd", "pro-yearly-usd"),
    ("EUR", "pro-monthly-eur", "business-monthly-eur"),
    ("JPY", "pro-monthly-jpy", "business-monthly-jpy"),
    ("JPY", "business-monthly-jpy", "pro-monthly-jpy"),
    ("JPY", "pro-monthly-jpy", "pro-yearly-jpy"),
)


def _deps() -> tuple[Deps, FixedClock, FakeGateway]:
    clock, gateway = FixedClock(), FakeGateway()
    deps = in_memory_deps(clock, gateway)
    return Deps(**{**deps.__dict__, "catalogue": StaticCatalogue(PLANS)}), clock, gateway


def _subscribed(deps: Deps, currency: str, plan_id: str) -> tuple[UUID, str]:
    account_id = accounts.open_account(deps, open_cmd(currency=currency), customer_ctx()).account_id
    card = AddCard(
        account_id=account_id,
        processor_ref=CARD,
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    methods.add_card(deps, card, customer_ctx())
    cmd = Subscribe(account_id=account_id, plan_id=plan_id)
    return account_id, str(billing.subscribe(deps, cmd, customer_ctx()).subscription_id)


def _previewed_then_changed(
    deps: Deps, gateway: FakeGateway, account_id: UUID, sub_id: str, to: str
) -> tuple[PlanPreview, billing.BillingResult]:
    cmd = ChangePlan(account_id=account_id, subscription_id=sub_id, plan_id=to)
    preview = preview_plan_change(deps, cmd, customer_ctx())
    return preview, billing.change_plan(deps, cmd, customer_ctx(uuid4()))


def _assert_preview_is_what_was_done(
    deps: Deps, gateway: FakeGateway, preview: PlanPreview, done: billing.BillingResult
) -> None:
    account = load_account(deps.app, UUID(preview.account_id))
    zero = Money.zero(preview.net.currency)
    if done.invoice_id is not None:
        invoice = account.invoices[done.invoice_id]
        assert invoice.lines == preview.lines
        assert invoice.credit_applied == preview.credit_applied
        assert invoice.amount_due == preview.amount_due_now
        charged = [c.amount for c in gateway.charges if c.amount.currency == zero.currency]
        if preview.amount_due_now.is_positive:
            assert charged[-1] == preview.amount_due_now
        assert preview.credit_granted == zero
    else:
        assert preview.amount_due_now == zero
        granted = [c.granted for c in account.credits.values() if c.credit_id.endswith("-credit")]
        assert granted == ([preview.credit_granted] if preview.credit_granted.is_positive else [])
    sub = account.subscriptions[preview.subscription_id]
    assert preview.next_renewal is not None
    assert (preview.next_renewal.at, preview.next_renewal.price) == (
        sub.period_end,
        preview.to_plan.price,
    )


@pytest.mark.parametrize(("currency", "start", "to"), CHANGES)
@pytest.mark.parametrize("days", [0, 0.5, 7, 14.25, 27.9, 30.99])
def test_the_preview_is_what_the_change_then_charges_or_credits(
    currency: str, start: str, to: str, days: float
) -> None:
    deps, clock, gateway = _deps()
    account_id, sub_id = _subscribed(deps, currency, start)
    clock.advance(days=days)
    preview, done = _previewed_then_changed(deps, gateway, account_id, sub_id, to)
    assert preview.quoted_at == clock.now()
    assert preview.net == preview.lines[0].amount + preview.lines[1].amount
    _assert_preview_is_what_was_done(deps, gateway, preview, done)


@settings(max_examples=40, deadline=None)
@given(
    change=st.sampled_from(CHANGES),
    seconds=st.integers(min_value=0, max_value=31 * 24 * 3600 - 1),
)
def test_at_any_second_of_the_period_the_preview_is_what_is_charged(
    change: tuple[str, str, str], seconds: int
) -> None:
    currency, start, to = change
    deps, clock, gateway = _deps()
    account_id, sub_id = _subscribed(deps, currency, start)
    clock.advance(seconds=seconds)
    preview, done = _previewed_then_changed(deps, gateway, account_id, sub_id, to)
    _assert_preview_is_what_was_done(deps, gateway, preview, done)


@settings(max_examples=30, deadline=None)
@given(
    change=st.sampled_from(CHANGES),
    seconds=st.integers(min_value=0, max_value=27 * 24 * 3600),
    later=st.integers(min_value=0, max_value=int(QUOTE_VALID_FOR.total_seconds())),
)
def test_a_change_confirmed_within_the_quote_window_is_what_its_preview_showed(
    change: tuple[str, str, str], seconds: int, later: int
) -> None:
    currency, start, to = change
    deps, clock, gateway = _deps()
    account_id, sub_id = _subscribed(deps, currency, start)
    clock.advance(seconds=seconds)
    cmd = ChangePlan(account_id=account_id, subscription_id=sub_id, plan_id=to)
    preview = preview_plan_change(deps, cmd, customer_ctx())
    clock.advance(seconds=later)
    quoted = cmd.model_copy(update={"quoted_at": preview.quoted_at})
    done = billing.change_plan(deps, quoted, customer_ctx(uuid4()))
    _assert_preview_is_what_was_done(deps, gateway, preview, done)


@pytest.mark.parametrize(
    "quoted", [QUOTE_VALID_FOR + timedelta(seconds=1), -timedelta(seconds=1), timedelta(days=8)]
)
def test_a_quote_too_old_in_the_future_or_before_the_period_changes_nothing(
    quoted: timedelta,
) -> None:
    deps, clock, gateway = _deps()
    account_id, sub_id = _subscribed(deps, "USD", "pro-monthly-usd")
    clock.advance(days=7)
    before = load_account(deps.app, account_id)
    charges = len(gateway.charges)
    cmd = ChangePlan(
        account_id=account_id,
        subscription_id=sub_id,
        plan_id="business-monthly-usd",
        quoted_at=clock.now() - quoted,
    )
    with pytest.raises(QuoteExpired):
        billing.change_plan(deps, cmd, customer_ctx(uuid4()))
    after = load_account(deps.app, account_id)
    assert (after.version, len(gateway.charges)) == (before.version, charges)
    assert after.subscriptions[sub_id].plan_id == "pro-monthly-usd"


def test_the_credit_balance_is_applied_in_the_preview_as_in_the_change() -> None:
    deps, clock, gateway = _deps()
    account_id, sub_id = _subscribed(deps, "JPY", "pro-monthly-jpy")
    grant = GrantCredit(account_id=account_id, amount=1000, currency="JPY")
    credits.grant_credit(deps, grant, support_ctx())
    clock.advance(days=10)
    preview, done = _previewed_then_changed(
        deps, gateway, account_id, sub_id, "business-monthly-jpy"
    )
    assert preview.credit_applied == Money(1000, "JPY")
    assert preview.amount_due_now == preview.net - Money(1000, "JPY")
    _assert_preview_is_what_was_done(deps, gateway, preview, done)


def test_the_preview_records_nothing_even_from_a_cached_account() -> None:
    clock, gateway = FixedClock(), FakeGateway()
    deps = in_memory_deps(clock, gateway, cached_aggregates=10)
    account_id, sub_id = _subscribed(deps, "USD", "pro-monthly-usd")
    before = load_account(deps.app, account_id)
    cmd = ChangePlan(account_id=account_id, subscription_id=sub_id, plan_id="business-monthly-usd")
    preview_plan_change(deps, cmd, customer_ctx())
    preview_plan_change(deps, cmd, customer_ctx())
    after = load_account(deps.app, account_id)
    assert after.version == before.version
    assert after.subscriptions[sub_id].plan_id == "pro-monthly-usd"
    assert after.invoices.keys() == before.invoices.keys()
    assert len(gateway.charges) == 1  # the subscription's first invoice only


def test_a_subscription_ending_at_period_end_has_no_renewal_but_its_end() -> None:
    deps, clock, _gateway = _deps()
    account_id, sub_id = _subscribed(deps, "USD", "pro-monthly-usd")
    cancel = CancelSubscription(account_id=account_id, subscription_id=sub_id)
    billing.cancel_subscription(deps, cancel, customer_ctx())
    clock.advance(days=3)
    cmd = ChangePlan(account_id=account_id, subscription_id=sub_id, plan_id="business-monthly-usd")
    preview = preview_plan_change(deps, cmd, customer_ctx())
    end = load_account(deps.app, account_id).subscriptions[sub_id].period_end
    assert (preview.next_renewal, preview.ends_at) == (None, end)
    assert end - clock.now() < timedelta(days=31)


def test_the_preview_is_refused_in_bad_debt_with_the_amount_and_the_way_out() -> None:
    deps, _clock, gateway = _deps()
    account_id, sub_id = _subscribed(deps, "USD", "pro-monthly-usd")
    gateway.decline_next(CARD, "insufficient_funds")
    later = billing.subscribe(
        deps,
        Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False),
        customer_ctx(),
    )
    mark = MarkUncollectible(account_id=account_id, invoice_id=str(later.invoice_id))
    bad_debt.mark_uncollectible(deps, mark, support_ctx())
    cmd = ChangePlan(account_id=account_id, subscription_id=sub_id, plan_id="business-monthly-usd")
    with pytest.raises(BadDebtBlocked) as refused:
        preview_plan_change(deps, cmd, customer_ctx())
    assert "unpaid bad debt of 20.00 USD" in refused.value.detail
    assert "pay bad debt" in refused.value.detail
    with pytest.raises(BadDebtBlocked):
        billing.change_plan(deps, cmd, customer_ctx())


def test_the_preview_refuses_what_the_change_refuses() -> None:
    deps, _clock, _gateway = _deps()
    account_id, sub_id = _subscribed(deps, "USD", "pro-monthly-usd")
    same = ChangePlan(account_id=account_id, subscription_id=sub_id, plan_id="pro-monthly-usd")
    with pytest.raises(SamePlan):
        preview_plan_change(deps, same, customer_ctx())
    euro = ChangePlan(account_id=account_id, subscription_id=sub_id, plan_id="pro-monthly-eur")
    with pytest.raises(CurrencyMismatch):
        preview_plan_change(deps, euro, customer_ctx())
    with pytest.raises(CurrencyMismatch):
        billing.change_plan(deps, euro, customer_ctx())
