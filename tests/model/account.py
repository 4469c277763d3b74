"""The rules: one billing account (in-memory event store, fake gateway, controlled clock)
driven by customer, support and system commands whose choices come from a `Draws` source
(hypothesis' `data` in the state machine, a seeded `random.Random` in the soak run)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol, TypeVar
from uuid import UUID, uuid4

from commands import accounts, bad_debt, billing, credits, disputes, dunning, methods, refunds
from commands.base import Deps, load_account
from commands.janitor import record_if_in_flight, resolve_in_flight
from commands.models import (
    AddCard,
    AddPayPal,
    CancelSubscription,
    ChangePlan,
    CloseAccount,
    CloseDispute,
    GrantCredit,
    OpenDispute,
    PayBadDebt,
    PayInvoice,
    RefundPayment,
    RemoveMethod,
    RevokeCredit,
    RunBilling,
    SetDefaultMethod,
    Subscribe,
    VoidInvoice,
    WriteOffBadDebt,
)
from ledger.account import Account
from ledger.errors import DomainError
from ledger.invoices import InvoiceStatus
from ledger.methods import MethodKind
from ledger.payments import AttemptStatus
from tests.fakes.builders import customer_ctx, in_memory_deps, open_cmd, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import REQUIRES_ACTION, FakeGateway

T = TypeVar("T")

PLANS = ["pro-monthly-usd", "pro-yearly-usd", "business-monthly-usd"]
# What the processor answers a charge: success three times in nine.
OUTCOMES: list[str | None] = [
    None,
    None,
    None,
    "insufficient_funds",
    "processing_error",
    "expired_card",
    "stolen_card",
    REQUIRES_ACTION,  # 3-D Secure: cards only (PayPal never asks)
    REQUIRES_ACTION,
]


class Draws(Protocol):
    """Where the random choices come from."""

    def boolean(self) -> bool: ...

    def integer(self, low: int, high: int) -> int: ...

    def pick(self, items: Sequence[T]) -> T: ...


class RandomDraws:
    """Draws from a seeded generator: the same seed makes the same run."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def boolean(self) -> bool:
        return self._rng.random() < 0.5

    def integer(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def pick(self, items: Sequence[T]) -> T:
        return items[self._rng.randrange(len(items))]


class AccountModel:
    """One open account and the commands that can happen to it. A refused command (a
    DomainError) records nothing; `commands` counts each command accepted or refused."""

    def __init__(self, new_id: Callable[[], UUID] = uuid4) -> None:
        self.clock = FixedClock()
        self.gateway = FakeGateway()
        self.new_id = new_id
        deps = in_memory_deps(self.clock, self.gateway, cached_aggregates=1)
        self.deps: Deps = replace(deps, new_id=new_id)
        self.commands: Counter[str] = Counter()
        self.refs = 0
        self._loaded: tuple[int, Account] | None = None
        self._events: list[Any] = []
        self.account_id: UUID = accounts.open_account(
            self.deps, open_cmd(currency="USD"), customer_ctx()
        ).account_id
        self.commands["open_account"] += 1

    def account(self) -> Account:
        """The account as stored now (read only: loaded again after every save)."""
        head = self._head()
        if self._loaded is None or self._loaded[0] != head:
            self._loaded = (head, load_account(self.deps.app, self.account_id))
        return self._loaded[1]

    def events(self) -> list[Any]:
        """Every stored event of the account, from the first (each decoded once)."""
        after = len(self._events)
        self._events.extend(self.deps.app.events.get(self.account_id, gt=after or None))
        return list(self._events)

    def _head(self) -> int:
        return self.deps.app.recorder.max_notification_id() or 0

    def _try(self, name: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except DomainError:  # a refusal records nothing (see the invariants)
            self.commands[f"{name} (refused)"] += 1
        else:
            self.commands[name] += 1

    def _pick(self, draws: Draws, items: list[str]) -> str | None:
        return draws.pick(items) if items else None

    def _ids(self, predicate: Callable[[Any], bool], items: dict[str, Any]) -> list[str]:
        return [key for key, item in items.items() if predicate(item)]

    def _invoices(self, status: InvoiceStatus) -> list[str]:
        return self._ids(lambda i: i.status is status, self.account().invoices)

    def _script(self, draws: Draws) -> None:
        """The processor's next answers for every method: up to three declines or waits."""
        for method in self.account().methods.values():
            codes = [c for c in (draws.pick(OUTCOMES) for _ in range(draws.integer(0, 3))) if c]
            if method.kind is MethodKind.PAYPAL:
                codes = [c for c in codes if c != REQUIRES_ACTION]
            self.gateway.decline_next(method.processor_ref, *codes)

    # --- the rules ------------------------------------------------------------------

    def add_method(self, draws: Draws) -> None:
        self.refs += 1
        make_default = draws.boolean()
        if draws.boolean():
            paypal = AddPayPal(
                account_id=self.account_id,
                token=f"bt_{self.refs}",
                billing_agreement_id=f"B-{self.refs}",
                payer_email="p@example.com",
                make_default=make_default,
            )
            self._try("add_paypal", lambda: methods.add_paypal(self.deps, paypal, customer_ctx()))
            return
        card = AddCard(
            account_id=self.account_id,
            processor_ref=f"pm_{self.refs}",
            brand="visa",
            last4="4242",
            exp_month=1,
            exp_year=2030,
            make_default=make_default,
        )
        self._try("add_card", lambda: methods.add_card(self.deps, card, customer_ctx()))

    def change_methods(self, draws: Draws) -> None:
        method_id = self._pick(draws, list(self.account().methods))
        if method_id is None:
            return
        if draws.boolean():
            remove = RemoveMethod(account_id=self.account_id, method_id=method_id)
            self._try(
                "remove_method", lambda: methods.remove_method(self.deps, remove, customer_ctx())
            )
            return
        default = SetDefaultMethod(account_id=self.account_id, method_id=method_id)
        self._try(
            "set_default_method",
            lambda: methods.set_default_method(self.deps, default, customer_ctx()),
        )

    def subscribe(self, draws: Draws) -> None:
        self._script(draws)
        cmd = Subscribe(
            account_id=self.account_id, plan_id=draws.pick(PLANS), on_session=draws.boolean()
        )
        self._try("subscribe", lambda: billing.subscribe(self.deps, cmd, customer_ctx()))

    def change_subscription(self, draws: Draws) -> None:
        sub_id = self._pick(draws, list(self.account().subscriptions))
        if sub_id is None:
            return
        self._script(draws)
        if draws.boolean():
            self._cancel(sub_id, at_period_end=draws.boolean())
            return
        cmd = ChangePlan(
            account_id=self.account_id,
            subscription_id=sub_id,
            plan_id=draws.pick(PLANS),
            on_session=draws.boolean(),
        )
        self._try("change_plan", lambda: billing.change_plan(self.deps, cmd, customer_ctx()))

    def _cancel(self, sub_id: str, at_period_end: bool) -> None:
        cmd = CancelSubscription(
            account_id=self.account_id, subscription_id=sub_id, at_period_end=at_period_end
        )
        self._try(
            "cancel_subscription",
            lambda: billing.cancel_subscription(self.deps, cmd, customer_ctx()),
        )

    def time_passes_and_billing_runs(self, draws: Draws) -> None:
        """Renewals, credit expiry and dunning due after some days."""
        self._script(draws)
        self.clock.advance(days=draws.integer(0, 12), hours=draws.integer(0, 23))
        report = dunning.run_billing(
            self.deps, RunBilling(account_ids=[self.account_id]), system_ctx()
        )
        assert not report.errors, f"the billing run failed: {report.errors}"
        self.commands["run_billing"] += 1

    def customer_pays_an_invoice(self, draws: Draws) -> None:
        invoice_id = self._pick(draws, self._invoices(InvoiceStatus.OPEN))
        if invoice_id:
            self._script(draws)
            cmd = PayInvoice(account_id=self.account_id, invoice_id=invoice_id)
            self._try("pay_invoice", lambda: billing.pay_invoice(self.deps, cmd, customer_ctx()))

    def pay_bad_debt(self, draws: Draws) -> None:
        """Pays every uncollectible invoice, sometimes twice with the same key."""
        self._script(draws)
        key = self.new_id()
        cmd = PayBadDebt(account_id=self.account_id)
        for _ in range(2 if draws.boolean() else 1):
            self._try(
                "pay_bad_debt", lambda: bad_debt.pay_bad_debt(self.deps, cmd, customer_ctx(key))
            )

    def a_wait_for_the_customer_ends(self, draws: Draws) -> None:
        """A payment waiting for 3-D Secure (one is made first when none waits) is
        authenticated, fails authentication, or expires and is cancelled by the janitor."""
        outcome = draws.pick(["authenticated", "failed", "expired"])
        if not self._waiting():
            self._wait_for_the_customer(draws)
        attempt_id = self._pick(draws, self._waiting())
        if attempt_id is None:
            return
        if outcome == "expired":
            self.clock.advance(days=3)
            resolve_in_flight(self.deps, self.account_id, timedelta(minutes=15), system_ctx())
            self.commands["resolve_in_flight"] += 1
            return
        charge = self.gateway.authenticate(attempt_id, success=outcome == "authenticated")
        record_if_in_flight(self.deps, self.account_id, attempt_id, charge, system_ctx())
        self.commands[f"customer_authentication_{outcome}"] += 1

    def _waiting(self) -> list[str]:
        return self._ids(lambda a: a.awaiting_customer, self.account().attempts)

    def _wait_for_the_customer(self, draws: Draws) -> None:
        """An open invoice paid, or else a plan bought, on-session with a card that asks
        the customer to authenticate."""
        account = self.account()
        default = account.methods.get(account.default_method_id or "")
        if default is None or default.kind is MethodKind.PAYPAL:
            return
        self.gateway.decline_next(default.processor_ref, REQUIRES_ACTION)
        invoice_id = self._pick(draws, self._invoices(InvoiceStatus.OPEN))
        if invoice_id is not None:
            pay = PayInvoice(account_id=self.account_id, invoice_id=invoice_id)
            self._try("pay_invoice", lambda: billing.pay_invoice(self.deps, pay, customer_ctx()))
            return
        cmd = Subscribe(account_id=self.account_id, plan_id=draws.pick(PLANS), on_session=True)
        self._try("subscribe", lambda: billing.subscribe(self.deps, cmd, customer_ctx()))

    def write_off(self, draws: Draws) -> None:
        invoice_id = self._pick(draws, self._invoices(InvoiceStatus.UNCOLLECTIBLE))
        if invoice_id:
            self._write_off(invoice_id)

    def _write_off(self, invoice_id: str) -> None:
        cmd = WriteOffBadDebt(account_id=self.account_id, invoice_id=invoice_id)
        ctx = support_ctx("insolvent")
        self._try("write_off_bad_debt", lambda: bad_debt.write_off_bad_debt(self.deps, cmd, ctx))

    def void(self, draws: Draws) -> None:
        invoice_id = self._pick(draws, self._invoices(InvoiceStatus.OPEN))
        if invoice_id:
            self._void(invoice_id)

    def _void(self, invoice_id: str) -> None:
        cmd = VoidInvoice(account_id=self.account_id, invoice_id=invoice_id)
        ctx = support_ctx("billed by mistake")
        self._try("void_invoice", lambda: billing.void_invoice(self.deps, cmd, ctx))

    def money_comes_back(self, draws: Draws) -> None:
        """A refund, or a dispute opened and then won or lost, of a successful payment."""
        paid = self._ids(lambda a: a.status is AttemptStatus.SUCCEEDED, self.account().attempts)
        attempt_id = self._pick(draws, paid)
        if attempt_id is None:
            return
        amount = draws.integer(1, 30000)
        if not draws.boolean():
            cmd = RefundPayment(account_id=self.account_id, attempt_id=attempt_id, amount=amount)
            ctx = support_ctx("refund", self.new_id())
            self._try("refund_payment", lambda: refunds.refund_payment(self.deps, cmd, ctx))
            return
        opened = OpenDispute(
            account_id=self.account_id,
            attempt_id=attempt_id,
            dispute_id=f"dp_{attempt_id[:6]}",
            amount=amount,
        )
        self._try("open_dispute", lambda: disputes.open_dispute(self.deps, opened, system_ctx()))
        closed = CloseDispute(
            account_id=self.account_id, attempt_id=attempt_id, won=draws.boolean()
        )
        self._try("close_dispute", lambda: disputes.close_dispute(self.deps, closed, system_ctx()))

    def credits(self, draws: Draws) -> None:
        credit_id = self._pick(draws, list(self.account().credits))
        if draws.boolean() and credit_id:
            self._revoke(credit_id)
            return
        now = self.clock.now()
        cmd = GrantCredit(
            account_id=self.account_id,
            amount=draws.integer(1, 5000),
            currency="USD",
            expires_at=draws.pick([None, now.replace(year=now.year + 1)]),
        )
        ctx = support_ctx("goodwill")
        self._try("grant_credit", lambda: credits.grant_credit(self.deps, cmd, ctx))

    def _revoke(self, credit_id: str) -> None:
        cmd = RevokeCredit(account_id=self.account_id, credit_id=credit_id)
        ctx = support_ctx("mistake")
        self._try("revoke_credit", lambda: credits.revoke_credit(self.deps, cmd, ctx))

    def close(self, draws: Draws) -> None:
        """Closing is refused while anything is owed, subscribed or credited."""
        cmd = CloseAccount(account_id=self.account_id)
        self._try("close_account", lambda: accounts.close_account(self.deps, cmd, support_ctx()))

    def wind_down_and_close(self, draws: Draws) -> None:
        """Settles everything the way support would before closing: waits end, plans are
        cancelled at once, open invoices voided, bad debt written off, credit revoked."""
        self.clock.advance(days=3)
        resolve_in_flight(self.deps, self.account_id, timedelta(minutes=15), system_ctx())
        account = self.account()
        for sub_id in self._ids(lambda s: s.active, account.subscriptions):
            self._cancel(sub_id, at_period_end=False)
        for invoice_id in self._invoices(InvoiceStatus.OPEN):
            self._void(invoice_id)
        for invoice_id in self._invoices(InvoiceStatus.UNCOLLECTIBLE):
            self._write_off(invoice_id)
        for credit_id in self._ids(lambda c: c.active, self.account().credits):
            self._revoke(credit_id)
        self.close(draws)


RULES: tuple[str, ...] = (
    "add_method",
    "change_methods",
    "subscribe",
    "change_subscription",
    "time_passes_and_billing_runs",
    "customer_pays_an_invoice",
    "pay_bad_debt",
    "a_wait_for_the_customer_ends",
    "write_off",
    "void",
    "money_comes_back",
    "credits",
    "close",
)
