"""Subscriptions: subscribing, plan changes with proration, cancellation, renewal, and the
roll-back of an on-session change whose payment failed. Every purchase is refused in bad
debt and in another currency."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ledger.account.invoices import Invoices
from ledger.account.state import AccountEvent, AccountState
from ledger.errors import BadDebtBlocked, NothingToChange
from ledger.invoices import InvoiceStatus
from ledger.meta import EventMeta
from ledger.methods import MethodNotFound
from ledger.money import CurrencyMismatch, Money
from ledger.subscriptions import (
    Plan,
    PlanMismatch,
    SamePlan,
    Subscription,
    SubscriptionNotActive,
    SubscriptionNotFound,
    add_months,
    period_line,
    prorated_at,
    proration_lines,
)


class Subscribed(AccountEvent):
    TOPIC = "ledger.events:Subscribed"
    subscription: Subscription

    def apply_to(self, account: AccountState) -> None:
        sub = self.subscription
        account.subscriptions = {**account.subscriptions, sub.subscription_id: sub}


class SubscriptionChanged(AccountEvent):
    """The subscription's new state: plan changed, renewed, or cancellation (un)scheduled."""

    TOPIC = "ledger.events:SubscriptionChanged"
    subscription: Subscription
    change: str

    def apply_to(self, account: AccountState) -> None:
        sub = self.subscription
        account.subscriptions = {**account.subscriptions, sub.subscription_id: sub}


class Subscriptions(Invoices):
    def subscribe(
        self, subscription_id: str, plan: Plan, invoice_id: str, on_session: bool, meta: EventMeta
    ) -> None:
        self._require_can_buy(plan.price)
        if on_session:
            self._require_default_method()
        if subscription_id in self.subscriptions:
            raise NothingToChange(f"subscription {subscription_id} exists")
        self._require_new_invoice(invoice_id)
        start = meta.occurred_at
        end = add_months(start, plan.interval_months)
        sub = Subscription(subscription_id, plan.plan_id, start, end, anchor_day=start.day)
        self.trigger_event(Subscribed, subscription=sub, meta=meta)
        line = period_line(plan, subscription_id, sub.period_start, sub.period_end)
        self._invoice(
            invoice_id, (line,), meta, on_session_change=("subscribe" if on_session else None)
        )

    def change_plan(
        self,
        subscription_id: str,
        old: Plan,
        new: Plan,
        invoice_id: str,
        meta: EventMeta,
        on_session: bool = False,
        quoted_at: datetime | None = None,
    ) -> Money:
        """Moves to `new` now; charges (or credits) the rest of the period, counted from now
        or from the preview's `quoted_at` (the lines say from when). Returns the net."""
        sub = self._active_subscription(subscription_id)
        if sub.plan_id == new.plan_id:
            raise SamePlan()
        _require_plan_of(sub, old)
        self._require_can_buy(new.price)
        if on_session:
            self._require_default_method()
        self._require_new_invoice(invoice_id)
        if f"{invoice_id}-credit" in self.credits:
            raise NothingToChange(f"credit {invoice_id}-credit exists")
        at = prorated_at(sub, quoted_at, meta.occurred_at)
        credit_line, charge_line = proration_lines(old, new, sub, at)
        net = credit_line.amount + charge_line.amount
        changed = replace(sub, plan_id=new.plan_id)
        self.trigger_event(
            SubscriptionChanged, subscription=changed, change=f"plan:{old.plan_id}", meta=meta
        )
        if net.is_positive:
            self._invoice(
                invoice_id,
                (credit_line, charge_line),
                meta,
                on_session_change=f"plan:{old.plan_id}>{new.plan_id}" if on_session else None,
            )
        elif net.amount < 0:
            self._grant_credit(f"{invoice_id}-credit", -net, None, meta)
        return net

    def cancel_subscription(
        self, subscription_id: str, at_period_end: bool, meta: EventMeta
    ) -> None:
        sub = self._active_subscription(subscription_id)
        if at_period_end:
            if sub.cancel_at_period_end:
                raise NothingToChange()
            new = replace(sub, cancel_at_period_end=True)
            self.trigger_event(
                SubscriptionChanged, subscription=new, change="cancel_scheduled", meta=meta
            )
        else:
            self.trigger_event(
                SubscriptionChanged,
                subscription=sub.canceled(meta.occurred_at),
                change="canceled",
                meta=meta,
            )

    def renew(self, subscription_id: str, plan: Plan, invoice_id: str, meta: EventMeta) -> bool:
        """Renews a subscription whose period ended (or ends it, if so scheduled). Returns
        whether an invoice was issued."""
        sub = self._active_subscription(subscription_id)
        if sub.period_end > meta.occurred_at:
            return False
        if sub.cancel_at_period_end:
            ended = sub.canceled(sub.period_end)
            self.trigger_event(
                SubscriptionChanged, subscription=ended, change="canceled", meta=meta
            )
            return False
        _require_plan_of(sub, plan)
        self._require_new_invoice(invoice_id)
        renewed = sub.renewed(plan)
        self.trigger_event(SubscriptionChanged, subscription=renewed, change="renewed", meta=meta)
        line = period_line(plan, subscription_id, renewed.period_start, renewed.period_end)
        self._invoice(invoice_id, (line,), meta, on_session_change=None)
        return True

    def _roll_back_on_session(self, invoice_id: str, meta: EventMeta) -> None:
        inv = self.invoices[invoice_id]
        change = inv.on_session_change
        self.void_invoice(invoice_id, meta)
        sub_id = next((line.subscription_id for line in inv.lines if line.subscription_id), None)
        if change is None or sub_id is None:
            return
        sub = self.subscriptions[sub_id]
        if change == "subscribe":
            if not sub.active:
                return  # already canceled meanwhile: keep its own cancellation time
            rolled = sub.canceled(meta.occurred_at)
        else:
            old_plan, _, new_plan = change.removeprefix("plan:").partition(">")
            if sub.plan_id != new_plan:
                return  # the plan changed again since: that later change stands
            # Only the plan goes back: a cancellation made meanwhile stands.
            rolled = replace(sub, plan_id=old_plan)
        self.trigger_event(
            SubscriptionChanged, subscription=rolled, change="rolled_back", meta=meta
        )

    def _active_subscription(self, subscription_id: str) -> Subscription:
        self._require_open()
        try:
            sub = self.subscriptions[subscription_id]
        except KeyError:
            raise SubscriptionNotFound() from None
        if not sub.active:
            raise SubscriptionNotActive()
        return sub

    def _require_can_buy(self, price: Money) -> None:
        self._require_open()
        if self.bad_debt:
            raise BadDebtBlocked(self._bad_debt_way_out())
        if price.currency != self.profile.currency:
            raise CurrencyMismatch(f"plan in {price.currency}, account in {self.profile.currency}")

    def _bad_debt_way_out(self) -> str:
        """The refusal in words, with the amount and the way out."""
        owed = Money.zero(self.profile.currency)
        for inv in self.invoices.values():
            if inv.status is InvoiceStatus.UNCOLLECTIBLE and inv.currency == owed.currency:
                owed = owed + inv.amount_due
        return (
            f"The account has unpaid bad debt of {owed.decimal_text(grouping=True)}"
            f" {owed.currency}: pay it (pay bad debt) before any purchase or plan change."
        )

    def _require_default_method(self) -> None:
        """A customer paying now needs a method to pay with: refuse before anything is
        recorded, rather than leave an invoice that would drift into dunning."""
        default = self.methods.get(self.default_method_id or "")
        if default is None or not default.usable:
            raise MethodNotFound("add a usable payment method first")


def _require_plan_of(sub: Subscription, plan: Plan) -> None:
    if plan.plan_id != sub.plan_id:
        raise PlanMismatch(f"the subscription is on {sub.plan_id}, not {plan.plan_id}")
