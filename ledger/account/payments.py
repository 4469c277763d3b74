"""Payments: attempts and their outcomes (success, customer action, failure), payments made
out of band, refunds and disputes. Money moves only with the outcome, never with the start."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.account.state import AccountEvent, AccountState, MoneyMoved
from ledger.account.subscriptions import Subscriptions
from ledger.errors import NothingToChange, SupportOnly
from ledger.invoices import InvalidTransition, InvoiceStatus
from ledger.journal import JournalEntry
from ledger.journal import LedgerAccount as L
from ledger.meta import ActorKind, EventMeta
from ledger.methods import MethodKind
from ledger.money import Money
from ledger.payments import (
    AUTHENTICATION_NOT_COMPLETED,
    ActionNotExpired,
    ActionPolicy,
    AttemptPurpose,
    FailureKind,
    PaymentAttempt,
    Processor,
    failure_kind,
)


class PaymentAttemptStarted(AccountEvent):
    TOPIC = "ledger.events:PaymentAttemptStarted"
    attempt: PaymentAttempt

    def apply_to(self, account: AccountState) -> None:
        account.attempts = {**account.attempts, self.attempt.attempt_id: self.attempt}


class PaymentSucceeded(MoneyMoved):
    """The attempt captured the money, and its invoice is paid (bad debt: recovered)."""

    TOPIC = "ledger.events:PaymentSucceeded"
    attempt_id: str
    processor_payment_id: str

    def apply_to(self, account: AccountState) -> None:
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

    TOPIC = "ledger.events:PaymentActionRequired"
    attempt_id: str
    processor_payment_id: str
    expires_at: datetime

    def apply_to(self, account: AccountState) -> None:
        attempt = account.attempts[self.attempt_id].action_required(
            self.processor_payment_id, self.expires_at
        )
        account.attempts = {**account.attempts, self.attempt_id: attempt}


class PaymentFailed(AccountEvent):
    """v2 adds `failure`, decided when recorded (v1 events get it from their decline code)."""

    TOPIC = "ledger.events:PaymentFailed"
    class_version = 2
    attempt_id: str
    decline_code: str
    failure: FailureKind

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["failure"] = failure_kind(state["decline_code"]).value

    def apply_to(self, account: AccountState) -> None:
        attempt = account.attempts[self.attempt_id].failed(
            self.meta.occurred_at, self.decline_code, FailureKind(self.failure)
        )
        account.attempts = {**account.attempts, self.attempt_id: attempt}


class InvoicePaidOutOfBand(MoneyMoved):
    TOPIC = "ledger.events:InvoicePaidOutOfBand"
    invoice_id: str
    processor: str
    reference: str

    def apply_to(self, account: AccountState) -> None:
        inv = account.invoices[self.invoice_id].paid(self.meta.occurred_at, out_of_band=True)
        account.invoices = {**account.invoices, self.invoice_id: inv}


class RefundIssued(MoneyMoved):
    TOPIC = "ledger.events:RefundIssued"
    attempt_id: str
    refund_id: str
    amount: int

    def apply_to(self, account: AccountState) -> None:
        attempt = account.attempts[self.attempt_id]
        refunded = attempt.refund(Money(self.amount, attempt.amount.currency))
        account.attempts = {**account.attempts, self.attempt_id: refunded}
        account.refund_ids = {**account.refund_ids, self.refund_id: self.attempt_id}


class DisputeOpened(MoneyMoved):
    TOPIC = "ledger.events:DisputeOpened"
    attempt_id: str
    dispute_id: str
    amount: int

    def apply_to(self, account: AccountState) -> None:
        attempt = account.attempts[self.attempt_id]
        money = Money(self.amount, attempt.amount.currency)
        account.attempts = {**account.attempts, self.attempt_id: attempt.dispute_opened(money)}


class DisputeClosed(MoneyMoved):
    TOPIC = "ledger.events:DisputeClosed"
    attempt_id: str
    won: bool

    def apply_to(self, account: AccountState) -> None:
        attempt = account.attempts[self.attempt_id].dispute_closed(self.won)
        account.attempts = {**account.attempts, self.attempt_id: attempt}


class Payments(Subscriptions):
    def start_attempt(
        self,
        attempt_id: str,
        invoice_id: str,
        method_id: str,
        purpose: AttemptPurpose,
        meta: EventMeta,
    ) -> PaymentAttempt:
        if attempt_id in self.attempts:
            return self.attempts[attempt_id]  # the same request again: same attempt
        inv = self._invoice_of(invoice_id)
        wanted = (
            InvoiceStatus.UNCOLLECTIBLE
            if purpose is AttemptPurpose.BAD_DEBT
            else InvoiceStatus.OPEN
        )
        if inv.status is not wanted:
            raise InvalidTransition(f"invoice is {inv.status}, this payment needs it {wanted}")
        self._refuse_if_invoice_in_flight(invoice_id)
        method = self._usable_method(method_id)
        processor = Processor.BRAINTREE if method.kind is MethodKind.PAYPAL else Processor.STRIPE
        attempt = PaymentAttempt(
            attempt_id, invoice_id, method_id, processor, inv.amount_due, purpose, meta.occurred_at
        )
        self.trigger_event(PaymentAttemptStarted, attempt=attempt, meta=meta)
        return attempt

    def record_success(self, attempt_id: str, processor_payment_id: str, meta: EventMeta) -> None:
        attempt = self._attempt(attempt_id)
        attempt.succeeded(meta.occurred_at, processor_payment_id)  # raises if settled
        journal = JournalEntry.of((_cash(attempt.processor), L.RECEIVABLE, attempt.amount))
        self.trigger_event(
            PaymentSucceeded,
            attempt_id=attempt_id,
            processor_payment_id=processor_payment_id,
            journal=journal,
            meta=meta,
        )

    def record_action_required(
        self, attempt_id: str, processor_payment_id: str, policy: ActionPolicy, meta: EventMeta
    ) -> None:
        """The processor asks the customer to authenticate: the attempt waits, still in
        flight, until its outcome arrives or the policy's wait for its purpose expires."""
        attempt = self._attempt(attempt_id)
        expires_at = policy.expires_at(attempt.purpose, meta.occurred_at)
        attempt.action_required(processor_payment_id, expires_at)  # raises unless pending
        self.trigger_event(
            PaymentActionRequired,
            attempt_id=attempt_id,
            processor_payment_id=processor_payment_id,
            expires_at=expires_at,
            meta=meta,
        )

    def expire_action(self, attempt_id: str, meta: EventMeta) -> None:
        """An attempt waited for the customer past its expiry (the caller has cancelled it at
        the processor first): the soft failure `authentication_not_completed`, with the
        usual consequences (on-session: void and roll back; off-session: dunning goes on)."""
        if not self._attempt(attempt_id).action_expired(meta.occurred_at):
            raise ActionNotExpired(attempt_id)
        self.record_failure(attempt_id, AUTHENTICATION_NOT_COMPLETED, meta)

    def record_failure(self, attempt_id: str, decline_code: str, meta: EventMeta) -> None:
        """A failed on-session payment voids its invoice and rolls back what it paid for:
        only off-session collection enters dunning."""
        attempt = self._attempt(attempt_id)
        attempt.failed(meta.occurred_at, decline_code)  # raises if settled
        self.trigger_event(
            PaymentFailed,
            attempt_id=attempt_id,
            decline_code=decline_code,
            failure=failure_kind(decline_code),
            meta=meta,
        )
        invoice = self.invoices[attempt.invoice_id]
        if attempt.purpose is AttemptPurpose.ON_SESSION and invoice.on_session_change:
            # Only an invoice for an on-session change is voided and rolled back; any other
            # invoice (a renewal the customer tried to pay) stays owed and in dunning.
            self._roll_back_on_session(attempt.invoice_id, meta)

    def pay_out_of_band(
        self, invoice_id: str, processor: Processor, reference: str, meta: EventMeta
    ) -> None:
        inv = self._invoice_of(invoice_id)
        self._refuse_if_invoice_in_flight(invoice_id)
        inv.paid(meta.occurred_at)  # raises if not allowed
        if inv.status is InvoiceStatus.UNCOLLECTIBLE and meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("bad debt is paid through PayBadDebt, or recorded by support")
        journal = JournalEntry.of((_cash(processor), L.RECEIVABLE, inv.amount_due))
        self.trigger_event(
            InvoicePaidOutOfBand,
            invoice_id=invoice_id,
            processor=processor.value,
            reference=reference,
            journal=journal,
            meta=meta,
        )

    def refund(self, attempt_id: str, refund_id: str, amount: Money, meta: EventMeta) -> None:
        attempt = self._attempt(attempt_id)
        if refund_id in self.refund_ids:
            raise NothingToChange(f"refund {refund_id} already recorded")
        attempt.refund(amount)  # raises if too large
        journal = JournalEntry.of((L.REFUNDS, _cash(attempt.processor), amount))
        self.trigger_event(
            RefundIssued,
            attempt_id=attempt_id,
            refund_id=refund_id,
            amount=amount.amount,
            journal=journal,
            meta=meta,
        )

    def open_dispute(
        self, attempt_id: str, dispute_id: str, amount: Money, meta: EventMeta
    ) -> None:
        attempt = self._attempt(attempt_id)
        attempt.dispute_opened(amount)  # raises if not allowed
        journal = JournalEntry.of((L.DISPUTED_FUNDS, _cash(attempt.processor), amount))
        self.trigger_event(
            DisputeOpened,
            attempt_id=attempt_id,
            dispute_id=dispute_id,
            amount=amount.amount,
            journal=journal,
            meta=meta,
        )

    def close_dispute(self, attempt_id: str, won: bool, meta: EventMeta) -> None:
        attempt = self._attempt(attempt_id)
        attempt.dispute_closed(won)  # raises if not allowed
        amount = Money(attempt.disputed_amount, attempt.amount.currency)
        move = (
            (_cash(attempt.processor), L.DISPUTED_FUNDS, amount)
            if won
            else (L.DISPUTE_LOSSES, L.DISPUTED_FUNDS, amount)
        )
        self.trigger_event(
            DisputeClosed,
            attempt_id=attempt_id,
            won=won,
            journal=JournalEntry.of(move),
            meta=meta,
        )


def _cash(processor: Processor) -> L:
    return L.CASH_BRAINTREE if processor is Processor.BRAINTREE else L.CASH_STRIPE
