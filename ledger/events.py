"""Events of the account stream beyond identity: methods, subscriptions, invoices, payments,
credits. Each is a fact with its audit `meta`; money-moving ones carry their journal entry.
`apply` changes the account's state and decides nothing (the Account's methods decide)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from ledger.credits import Credit, CreditStatus
from ledger.invoices import Invoice
from ledger.journal import JournalEntry
from ledger.meta import EventMeta
from ledger.methods import MethodState, PaymentMethod, VaultPath, default_after_removal
from ledger.money import Money
from ledger.payments import FailureKind, PaymentAttempt, failure_kind
from ledger.subscriptions import Subscription

if TYPE_CHECKING:
    from ledger.account import Account


class AccountEvent(Aggregate.Event):
    meta: EventMeta

    def apply(self, aggregate: Any) -> None:
        self.apply_to(aggregate)
        aggregate.remember_command(self.meta, self.originator_version)

    def apply_to(self, account: Account) -> None:
        raise NotImplementedError  # every concrete event says what it changes


class MoneyMoved(AccountEvent):
    journal: JournalEntry


# --- billing identity -----------------------------------------------------------------


class ProviderCustomerLinked(AccountEvent):
    processor: str
    customer_id: str

    def apply_to(self, account: Account) -> None:
        account.provider_customers = {
            **account.provider_customers,
            self.processor: self.customer_id,
        }


class ProviderCustomerSynced(AccountEvent):
    """The ledger wrote these billing-identity fields to the processor's customer (or found
    them there already). The last synced values tell reconciliation who changed what: a
    customer that differs from them was edited at the processor."""

    processor: str
    customer_id: str
    name: str
    email: str

    def apply_to(self, account: Account) -> None:
        synced = {"customer_id": self.customer_id, "name": self.name, "email": self.email}
        account.provider_synced = {**account.provider_synced, self.processor: synced}


# --- payment methods ------------------------------------------------------------------


class PaymentMethodAdded(AccountEvent):
    method: PaymentMethod
    make_default: bool

    def apply_to(self, account: Account) -> None:
        account.methods = {**account.methods, self.method.method_id: self.method}
        account.method_seq = max(account.method_seq, self.method.added_seq)
        if self.make_default or account.default_method_id is None:
            account.default_method_id = self.method.method_id


class DefaultPaymentMethodSet(AccountEvent):
    method_id: str

    def apply_to(self, account: Account) -> None:
        account.default_method_id = self.method_id


class _MethodStateChanged(AccountEvent):
    method_id: str
    new_state = MethodState.REMOVED

    def apply_to(self, account: Account) -> None:
        account.default_method_id = default_after_removal(
            account.methods, self.method_id, account.default_method_id
        )
        method = account.methods[self.method_id].with_state(self.new_state)
        account.methods = {**account.methods, self.method_id: method}


class PaymentMethodRemoved(_MethodStateChanged):
    new_state = MethodState.REMOVED


class PaymentMethodExpired(_MethodStateChanged):
    new_state = MethodState.EXPIRED


class PaymentMethodRevoked(_MethodStateChanged):
    new_state = MethodState.REVOKED


class PaymentMethodTokenMigrated(AccountEvent):
    method_id: str
    old_ref: str
    new_ref: str
    billing_agreement_id: str | None

    def apply_to(self, account: Account) -> None:
        method = replace(
            account.methods[self.method_id],
            processor_ref=self.new_ref,
            billing_agreement_id=self.billing_agreement_id,
            vault_path=VaultPath.BILLING_AGREEMENT,
        )
        account.methods = {**account.methods, self.method_id: method}


# --- subscriptions --------------------------------------------------------------------


class Subscribed(AccountEvent):
    subscription: Subscription

    def apply_to(self, account: Account) -> None:
        sub = self.subscription
        account.subscriptions = {**account.subscriptions, sub.subscription_id: sub}


class SubscriptionChanged(AccountEvent):
    """The subscription's new state: plan changed, renewed, or cancellation (un)scheduled."""

    subscription: Subscription
    change: str

    def apply_to(self, account: Account) -> None:
        sub = self.subscription
        account.subscriptions = {**account.subscriptions, sub.subscription_id: sub}


# --- invoices -------------------------------------------------------------------------


class InvoiceDrafted(AccountEvent):
    invoice: Invoice

    def apply_to(self, account: Account) -> None:
        account.invoices = {**account.invoices, self.invoice.invoice_id: self.invoice}


class InvoiceFinalized(MoneyMoved):
    invoice_id: str
    number: str
    due_at: datetime | None
    credits_used: dict[str, int]

    def apply_to(self, account: Account) -> None:
        inv = account.invoices[self.invoice_id]
        finalized = inv.finalized(
            self.number, self.meta.occurred_at, self.due_at, self.credits_used
        )
        account.invoices = {**account.invoices, self.invoice_id: finalized}
        account.invoice_seq += 1
        account.currency_locked = True
        for credit_id, used in self.credits_used.items():
            account.credits = {**account.credits, credit_id: account.credits[credit_id].used(used)}


class InvoiceMarkedUncollectible(AccountEvent):
    invoice_id: str

    def apply_to(self, account: Account) -> None:
        inv = account.invoices[self.invoice_id].marked_uncollectible(self.meta.occurred_at)
        account.invoices = {**account.invoices, self.invoice_id: inv}


class InvoiceVoided(MoneyMoved):
    """Voiding an open invoice reverses it; voiding an uncollectible one writes it off."""

    invoice_id: str
    credits_restored: dict[str, int]

    def apply_to(self, account: Account) -> None:
        inv = account.invoices[self.invoice_id].voided(self.meta.occurred_at)
        account.invoices = {**account.invoices, self.invoice_id: inv}
        for credit_id, amount in self.credits_restored.items():
            credit = account.credits[credit_id]
            account.credits = {**account.credits, credit_id: credit.used(-amount)}


class InvoicePaidOutOfBand(MoneyMoved):
    invoice_id: str
    processor: str
    reference: str

    def apply_to(self, account: Account) -> None:
        inv = account.invoices[self.invoice_id].paid(self.meta.occurred_at, out_of_band=True)
        account.invoices = {**account.invoices, self.invoice_id: inv}


class InvoiceCoveredByCredit(AccountEvent):
    """Credits covered the whole amount at finalization: paid, with nothing to collect."""

    invoice_id: str

    def apply_to(self, account: Account) -> None:
        inv = account.invoices[self.invoice_id].paid(self.meta.occurred_at)
        account.invoices = {**account.invoices, self.invoice_id: inv}


# --- payments -------------------------------------------------------------------------


class PaymentAttemptStarted(AccountEvent):
    attempt: PaymentAttempt

    def apply_to(self, account: Account) -> None:
        account.attempts = {**account.attempts, self.attempt.attempt_id: self.attempt}


class PaymentSucceeded(MoneyMoved):
    """The attempt captured the money, and its invoice is paid (bad debt: recovered)."""

    attempt_id: str
    processor_payment_id: str

    def apply_to(self, account: Account) -> None:
        attempt = account.attempts[self.attempt_id]
        done = attempt.succeeded(self.meta.occurred_at, self.processor_payment_id)
        account.attempts = {**account.attempts, self.attempt_id: done}
        inv = account.invoices[attempt.invoice_id]
        out_of_band = attempt.processor.value == "braintree"
        paid = inv.paid(self.meta.occurred_at, out_of_band=out_of_band)
        account.invoices = {**account.invoices, inv.invoice_id: paid}


class PaymentActionRequired(AccountEvent):
    """The processor asks the customer to authenticate (3-D Secure) before it charges: the
    attempt stays in flight, waiting, until an outcome arrives or `expires_at` passes."""

    attempt_id: str
    processor_payment_id: str
    expires_at: datetime

    def apply_to(self, account: Account) -> None:
        attempt = account.attempts[self.attempt_id].action_required(
            self.processor_payment_id, self.expires_at
        )
        account.attempts = {**account.attempts, self.attempt_id: attempt}


class PaymentFailed(AccountEvent):
    """v2 adds `failure`, decided when recorded (v1 events get it from their decline code)."""

    class_version = 2
    attempt_id: str
    decline_code: str
    failure: FailureKind

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["failure"] = failure_kind(state["decline_code"]).value

    def apply_to(self, account: Account) -> None:
        attempt = account.attempts[self.attempt_id].failed(
            self.meta.occurred_at, self.decline_code, FailureKind(self.failure)
        )
        account.attempts = {**account.attempts, self.attempt_id: attempt}


class RefundIssued(MoneyMoved):
    attempt_id: str
    refund_id: str
    amount: int

    def apply_to(self, account: Account) -> None:
        attempt = account.attempts[self.attempt_id]
        refunded = attempt.refund(Money(self.amount, attempt.amount.currency))
        account.attempts = {**account.attempts, self.attempt_id: refunded}
        account.refund_ids = {**account.refund_ids, self.refund_id: self.attempt_id}


class DisputeOpened(MoneyMoved):
    attempt_id: str
    dispute_id: str
    amount: int

    def apply_to(self, account: Account) -> None:
        attempt = account.attempts[self.attempt_id]
        money = Money(self.amount, attempt.amount.currency)
        account.attempts = {**account.attempts, self.attempt_id: attempt.dispute_opened(money)}


class DisputeClosed(MoneyMoved):
    attempt_id: str
    won: bool

    def apply_to(self, account: Account) -> None:
        attempt = account.attempts[self.attempt_id].dispute_closed(self.won)
        account.attempts = {**account.attempts, self.attempt_id: attempt}


# --- credits --------------------------------------------------------------------------


class CreditGranted(MoneyMoved):
    credit: Credit

    def apply_to(self, account: Account) -> None:
        account.credits = {**account.credits, self.credit.credit_id: self.credit}


class CreditClosed(MoneyMoved):
    """Revoked by support, or expired: what remained of it is taken back."""

    credit_id: str
    status: CreditStatus

    def apply_to(self, account: Account) -> None:
        credit = account.credits[self.credit_id].closed(CreditStatus(self.status))
        account.credits = {**account.credits, self.credit_id: credit}


# --- support --------------------------------------------------------------------------


class AccountRecomputeRequested(AccountEvent):
    """Support asked to recompute this account's read models (who and why are in `meta`)."""

    projections: list[str]

    def apply_to(self, account: Account) -> None:
        return None  # a record of the request; the account's state is unchanged


class ReconciliationRepaired(AccountEvent):
    """Support repaired a mismatch reconciliation found between the ledger and a processor
    (`repair`, e.g. push-customer; `subject`: the customer, method or attempt; `detail`:
    what was done). The reason is in `meta`. What the repair changed in the ledger, if
    anything, is recorded by its own events; this is the record that it was a repair."""

    repair: str
    processor: str
    subject: str
    detail: str

    def apply_to(self, account: Account) -> None:
        return None  # a record of the repair; the account's state is unchanged


class ReconciliationRepairStarted(AccountEvent):
    """Support started a repair whose only effect is at the processor and leaves no trace
    there of who made it (detach-method): saved before the processor is asked, so a retry
    of the same repair command that finds the effect made knows it is its own and records
    `ReconciliationRepaired`. A start with no `ReconciliationRepaired` caused by the same
    command is a repair that did not finish (the processor refused, or nobody retried)."""

    repair: str
    processor: str
    subject: str

    def apply_to(self, account: Account) -> None:
        return None  # a record of the attempt; the account's state is unchanged
