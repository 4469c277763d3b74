"""Random command sequences with random processor outcomes keep the account's invariants:
balanced journal, receivable equal to what open and uncollectible invoices owe, no invoice
paid twice, bad debt iff something is uncollectible, and replay (with or without a snapshot)
equal to the live state."""

from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from commands import billing, handlers, methods, money
from commands.base import Deps, load_account
from commands.janitor import record_if_in_flight, resolve_in_flight
from commands.models import (
    AddCard,
    AddPayPal,
    CancelSubscription,
    ChangePlan,
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
    WriteOffBadDebt,
)
from ledger.account import Account
from ledger.errors import DomainError
from ledger.events import MoneyMoved
from ledger.invoices import InvoiceStatus
from ledger.journal import LedgerAccount, totals_by_currency
from ledger.methods import MethodKind
from ledger.payments import AttemptStatus
from tests.fakes.builders import customer_ctx, in_memory_deps, open_cmd, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import REQUIRES_ACTION, FakeGateway

PLANS = ["pro-monthly-usd", "pro-yearly-usd", "business-monthly-usd"]
OUTCOMES = st.sampled_from(
    [
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
)


class AccountMachine(RuleBasedStateMachine):
    @initialize()
    def open_account(self) -> None:
        self.clock = FixedClock()
        self.gateway = FakeGateway()
        self.deps: Deps = in_memory_deps(self.clock, self.gateway)
        ctx = customer_ctx()
        self.account_id: UUID = handlers.open_account(
            self.deps, open_cmd(currency="USD"), ctx
        ).account_id
        self.refs = 0

    def _try(self, action: Any) -> None:
        with contextlib.suppress(DomainError):  # a refusal records nothing (see invariants)
            action()

    def _account(self) -> Account:
        return load_account(self.deps.app, self.account_id)

    def _pick(self, data: st.DataObject, items: list[str]) -> str | None:
        return data.draw(st.sampled_from(items)) if items else None

    def _script(self, data: st.DataObject) -> None:
        for method in self._account().methods.values():
            codes = [c for c in data.draw(st.lists(OUTCOMES, max_size=3)) if c]
            if method.kind is MethodKind.PAYPAL:
                codes = [c for c in codes if c != REQUIRES_ACTION]
            self.gateway.decline_next(method.processor_ref, *codes)

    @rule(paypal=st.booleans(), make_default=st.booleans())
    def add_method(self, paypal: bool, make_default: bool) -> None:
        self.refs += 1
        if paypal:
            cmd: Any = AddPayPal(
                account_id=self.account_id,
                token=f"bt_{self.refs}",
                billing_agreement_id=f"B-{self.refs}",
                payer_email="p@example.com",
                make_default=make_default,
            )
            self._try(lambda: methods.add_paypal(self.deps, cmd, customer_ctx()))
        else:
            cmd = AddCard(
                account_id=self.account_id,
                processor_ref=f"pm_{self.refs}",
                brand="visa",
                last4="4242",
                exp_month=1,
                exp_year=2030,
                make_default=make_default,
            )
            self._try(lambda: methods.add_card(self.deps, cmd, customer_ctx()))

    @rule(data=st.data(), remove=st.booleans())
    def change_methods(self, data: st.DataObject, remove: bool) -> None:
        method_id = self._pick(data, list(self._account().methods))
        if method_id is None:
            return
        if remove:
            cmd: Any = RemoveMethod(account_id=self.account_id, method_id=method_id)
            self._try(lambda: methods.remove_method(self.deps, cmd, customer_ctx()))
        else:
            cmd = SetDefaultMethod(account_id=self.account_id, method_id=method_id)
            self._try(lambda: methods.set_default_method(self.deps, cmd, customer_ctx()))

    @rule(data=st.data(), plan=st.sampled_from(PLANS), on_session=st.booleans())
    def subscribe(self, data: st.DataObject, plan: str, on_session: bool) -> None:
        self._script(data)
        cmd = Subscribe(account_id=self.account_id, plan_id=plan, on_session=on_session)
        self._try(lambda: billing.subscribe(self.deps, cmd, customer_ctx()))

    @rule(data=st.data(), plan=st.sampled_from(PLANS), cancel=st.booleans())
    def change_subscription(self, data: st.DataObject, plan: str, cancel: bool) -> None:
        sub_id = self._pick(data, list(self._account().subscriptions))
        if sub_id is None:
            return
        self._script(data)
        if cancel:
            cmd: Any = CancelSubscription(
                account_id=self.account_id,
                subscription_id=sub_id,
                at_period_end=data.draw(st.booleans()),
            )
            self._try(lambda: billing.cancel_subscription(self.deps, cmd, customer_ctx()))
        else:
            cmd = ChangePlan(
                account_id=self.account_id,
                subscription_id=sub_id,
                plan_id=plan,
                on_session=data.draw(st.booleans()),
            )
            self._try(lambda: billing.change_plan(self.deps, cmd, customer_ctx()))

    @rule(data=st.data(), days=st.integers(0, 12))
    def time_passes_and_billing_runs(self, data: st.DataObject, days: int) -> None:
        self._script(data)
        self.clock.advance(days=days, hours=data.draw(st.integers(0, 23)))
        billing.run_billing(self.deps, RunBilling(account_ids=[self.account_id]), system_ctx())

    @rule(data=st.data())
    def customer_pays_an_invoice(self, data: st.DataObject) -> None:
        open_ids = [
            i.invoice_id
            for i in self._account().invoices.values()
            if i.status is InvoiceStatus.OPEN
        ]
        invoice_id = self._pick(data, open_ids)
        if invoice_id:
            self._script(data)
            cmd = PayInvoice(account_id=self.account_id, invoice_id=invoice_id)
            self._try(lambda: billing.pay_invoice(self.deps, cmd, customer_ctx()))

    @rule(data=st.data(), repeat=st.booleans())
    def pay_bad_debt(self, data: st.DataObject, repeat: bool) -> None:
        self._script(data)
        key = uuid4()
        cmd = PayBadDebt(account_id=self.account_id)
        for _ in range(2 if repeat else 1):
            self._try(lambda: money.pay_bad_debt(self.deps, cmd, customer_ctx(key)))

    @rule(data=st.data(), outcome=st.sampled_from(["authenticated", "failed", "expired"]))
    def a_wait_for_the_customer_ends(self, data: st.DataObject, outcome: str) -> None:
        """A payment waiting for 3-D Secure (one is made first when none waits) is
        authenticated, fails authentication, or expires and is cancelled by the janitor."""
        if not any(a.awaiting_customer for a in self._account().attempts.values()):
            self._wait_for_the_customer(data)
        waiting = [a.attempt_id for a in self._account().attempts.values() if a.awaiting_customer]
        attempt_id = self._pick(data, waiting)
        if attempt_id is None:
            return
        if outcome == "expired":
            self.clock.advance(days=3)
            resolve_in_flight(self.deps, self.account_id, timedelta(minutes=15), system_ctx())
            return
        charge = self.gateway.authenticate(attempt_id, success=outcome == "authenticated")
        record_if_in_flight(self.deps, self.account_id, attempt_id, charge, system_ctx())

    def _wait_for_the_customer(self, data: st.DataObject) -> None:
        """An open invoice paid, or else a plan bought, on-session with a card that asks
        the customer to authenticate."""
        account = self._account()
        default = account.methods.get(account.default_method_id or "")
        if default is None or default.kind is MethodKind.PAYPAL:
            return
        self.gateway.decline_next(default.processor_ref, REQUIRES_ACTION)
        open_ids = [
            i.invoice_id for i in account.invoices.values() if i.status is InvoiceStatus.OPEN
        ]
        invoice_id = self._pick(data, open_ids)
        if invoice_id is not None:
            cmd: Any = PayInvoice(account_id=self.account_id, invoice_id=invoice_id)
            self._try(lambda: billing.pay_invoice(self.deps, cmd, customer_ctx()))
        else:
            plan = data.draw(st.sampled_from(PLANS))
            cmd = Subscribe(account_id=self.account_id, plan_id=plan, on_session=True)
            self._try(lambda: billing.subscribe(self.deps, cmd, customer_ctx()))

    @rule(data=st.data())
    def write_off(self, data: st.DataObject) -> None:
        bad = [
            i.invoice_id
            for i in self._account().invoices.values()
            if i.status is InvoiceStatus.UNCOLLECTIBLE
        ]
        invoice_id = self._pick(data, bad)
        if invoice_id:
            cmd = WriteOffBadDebt(account_id=self.account_id, invoice_id=invoice_id)
            self._try(lambda: money.write_off_bad_debt(self.deps, cmd, support_ctx("insolvent")))

    @rule(data=st.data(), amount=st.integers(1, 30000), dispute=st.booleans())
    def money_comes_back(self, data: st.DataObject, amount: int, dispute: bool) -> None:
        paid = [
            a.attempt_id
            for a in self._account().attempts.values()
            if a.status is AttemptStatus.SUCCEEDED
        ]
        attempt_id = self._pick(data, paid)
        if attempt_id is None:
            return
        if dispute:
            opened = OpenDispute(
                account_id=self.account_id,
                attempt_id=attempt_id,
                dispute_id=f"dp_{attempt_id[:6]}",
                amount=amount,
            )
            self._try(lambda: money.open_dispute(self.deps, opened, system_ctx()))
            closed = CloseDispute(
                account_id=self.account_id, attempt_id=attempt_id, won=data.draw(st.booleans())
            )
            self._try(lambda: money.close_dispute(self.deps, closed, system_ctx()))
        else:
            cmd = RefundPayment(account_id=self.account_id, attempt_id=attempt_id, amount=amount)
            self._try(lambda: money.refund_payment(self.deps, cmd, support_ctx("refund", uuid4())))

    @rule(data=st.data(), amount=st.integers(1, 5000), revoke=st.booleans())
    def credits(self, data: st.DataObject, amount: int, revoke: bool) -> None:
        credit_id = self._pick(data, list(self._account().credits))
        if revoke and credit_id:
            cmd: Any = RevokeCredit(account_id=self.account_id, credit_id=credit_id)
            self._try(lambda: money.revoke_credit(self.deps, cmd, support_ctx("mistake")))
            return
        expires = self.clock.now().replace(year=self.clock.now().year + 1)
        cmd = GrantCredit(
            account_id=self.account_id,
            amount=amount,
            currency="USD",
            expires_at=data.draw(st.sampled_from([None, expires])),
        )
        self._try(lambda: money.grant_credit(self.deps, cmd, support_ctx("goodwill")))

    # --- invariants -----------------------------------------------------------------

    def _events(self) -> list[Any]:
        return list(self.deps.app.events.get(self.account_id))

    @invariant()
    def every_entry_balances_and_receivable_matches_invoices(self) -> None:
        entries = [e.journal for e in self._events() if isinstance(e, MoneyMoved)]
        for entry in entries:
            assert all(total == 0 for total in totals_by_currency(entry.postings).values())
        receivable = sum(
            p.amount.amount
            for e in entries
            for p in e.postings
            if p.account is LedgerAccount.RECEIVABLE
        )
        account = self._account()
        owed = sum(i.outstanding.amount for i in account.invoices.values())
        assert receivable == owed == account.receivable.amount
        credit = -sum(
            p.amount.amount
            for e in entries
            for p in e.postings
            if p.account is LedgerAccount.CUSTOMER_CREDIT
        )
        assert credit == account.credit_balance.amount

    @invariant()
    def no_invoice_is_paid_twice(self) -> None:
        account = self._account()
        for invoice in account.invoices.values():
            paid = [
                a
                for a in account.attempts.values()
                if a.invoice_id == invoice.invoice_id and a.status is AttemptStatus.SUCCEEDED
            ]
            assert len(paid) <= 1
            if paid:
                assert invoice.status is InvoiceStatus.PAID
            in_flight = [
                a
                for a in account.attempts.values()
                if a.invoice_id == invoice.invoice_id and a.in_flight
            ]
            assert len(in_flight) <= 1

    @invariant()
    def bad_debt_iff_something_is_uncollectible(self) -> None:
        account = self._account()
        uncollectible = any(
            i.status is InvoiceStatus.UNCOLLECTIBLE for i in account.invoices.values()
        )
        assert account.bad_debt == uncollectible

    @invariant()
    def replay_equals_live_state(self) -> None:
        live = self._account()
        replayed: Any = None
        for event in self._events():
            replayed = event.mutate(replayed)
        assert replayed.__dict__ == live.__dict__
        with contextlib.suppress(IntegrityError):  # the app may have snapshotted this version
            self.deps.app.take_snapshot(self.account_id)
        from_snapshot = load_account(self.deps.app, self.account_id)
        assert from_snapshot.__dict__ == live.__dict__


AccountMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("LEDGER_INVARIANT_EXAMPLES", "40")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestAccountInvariants = AccountMachine.TestCase
