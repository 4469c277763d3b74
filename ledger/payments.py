"""Payment attempts: the attempt id is the idempotency key sent to the processor.

pending -> succeeded | failed, or pending -> requires_action -> succeeded | failed when the
processor asks the customer to authenticate (3-D Secure); a succeeded payment can be
refunded (in parts, never more than captured) and disputed (needs response -> won | lost).

An attempt that requires action is still in flight (no second attempt for its invoice, the
invoice is neither voided nor in dunning's failure count) until the customer's outcome
arrives or it expires (`ActionPolicy`); an expired one is cancelled at the processor and
then recorded as the soft failure `authentication_not_completed`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ledger.errors import DomainError, ErrorKind
from ledger.money import Money
from ledger.values import Immutable


class Processor(StrEnum):
    STRIPE = "stripe"
    BRAINTREE = "braintree"


class AttemptPurpose(StrEnum):
    COLLECTION = "collection"  # off-session: renewals and dunning retries
    ON_SESSION = "on_session"  # the customer is present (checkout, upgrade)
    BAD_DEBT = "bad_debt"  # PayBadDebt only


class AttemptStatus(StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"  # waiting for the customer to authenticate
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FailureKind(StrEnum):
    HARD = "hard"  # retrying the same method cannot succeed (expired card, closed account)
    SOFT = "soft"  # may succeed later (insufficient funds, processor hiccup)


class DisputeStatus(StrEnum):
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"


HARD_DECLINES = frozenset(
    {
        "expired_card",
        "incorrect_number",
        "invalid_account",
        "card_not_supported",
        "stolen_card",
        "lost_card",
        "pickup_card",
        "restricted_card",
        "do_not_honor_permanently",
        "account_closed",
        "paypal_agreement_revoked",
        "fraudulent",
        "invalid_payment_method",
        "processor_not_configured",
        # the processor cannot take this amount or currency at all: nothing was sent
        "currency_not_supported_by_processor",
        "amount_not_representable",
    }
)


AUTHENTICATION_NOT_COMPLETED = "authentication_not_completed"  # soft: the customer may retry

# Soft decline codes the ledger knows by name: those the processors' adapters record
# (adapters/stripe/declines.py, adapters/braintree/declines.py, the janitor's and the
# simulated cards') and Stripe's common retryable ones. Not a rule: every code not in
# HARD_DECLINES is soft. It bounds the codes a metric names (others count as "other").
SOFT_DECLINES = frozenset(
    {
        AUTHENTICATION_NOT_COMPLETED,
        "insufficient_funds",
        "card_declined",
        "generic_decline",
        "do_not_honor",
        "declined",
        "processor_declined",
        "processor_validation_error",
        "processor_network_unavailable",
        "limit_exceeded",
        "activity_limit_exceeded",
        "card_velocity_exceeded",
        "withdrawal_count_limit_exceeded",
        "paypal_funding_declined",
        "duplicate_transaction",
        "gateway_rejected",
        "authentication_required",
        "payment_intent_canceled",
        "invalid_request",
        "processing_error",
        "try_again_later",
        "issuer_not_available",
        "reenter_transaction",
        "call_issuer",
        "not_received_by_processor",
        "unknown",
    }
)
KNOWN_DECLINES = HARD_DECLINES | SOFT_DECLINES


def failure_kind(decline_code: str) -> FailureKind:
    return FailureKind.HARD if decline_code in HARD_DECLINES else FailureKind.SOFT


@dataclass(frozen=True)
class ActionPolicy:
    """How long an attempt waits for the customer to authenticate before it is cancelled.

    Present customers (on-session, paying bad debt) are in the checkout now: 23 hours, under
    Stripe's 24-hour idempotency window, so the intent is abandoned before a repeat of its
    request could ever create a second one. Off-session collections need the customer to
    be told and come back: 3 days, after which dunning goes on with its schedule."""

    on_session: timedelta = timedelta(hours=23)
    off_session: timedelta = timedelta(days=3)

    def expires_at(self, purpose: AttemptPurpose, at: datetime) -> datetime:
        wait = self.off_session if purpose is AttemptPurpose.COLLECTION else self.on_session
        return at + wait


class AttemptInFlight(DomainError):
    """A payment attempt for this invoice is already in flight."""

    code = "payment_attempt_in_flight"
    kind = ErrorKind.CONFLICT


class AttemptNotFound(DomainError):
    """No such payment attempt."""

    code = "payment_attempt_not_found"
    kind = ErrorKind.NOT_FOUND


class AttemptNotPending(DomainError):
    """The payment attempt already has an outcome."""

    code = "payment_attempt_settled"
    kind = ErrorKind.CONFLICT


class ActionNotExpired(DomainError):
    """The attempt is not waiting for the customer, or its wait has not expired yet."""

    code = "payment_action_not_expired"
    kind = ErrorKind.REFUSED


class RefundTooLarge(DomainError):
    """A refund cannot exceed what was captured and not yet refunded."""

    code = "refund_exceeds_captured"
    kind = ErrorKind.INVALID


class InvalidDisputeTransition(DomainError):
    """The dispute cannot move this way."""

    code = "invalid_dispute_transition"
    kind = ErrorKind.REFUSED


_FUNDS_WITHDRAWN = frozenset(
    {DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW, DisputeStatus.LOST}
)


@dataclass(frozen=True)
class PaymentAttempt(Immutable):
    attempt_id: str
    invoice_id: str
    method_id: str
    processor: Processor
    amount: Money
    purpose: AttemptPurpose
    started_at: datetime
    status: AttemptStatus = AttemptStatus.PENDING
    settled_at: datetime | None = None
    processor_payment_id: str | None = None
    decline_code: str | None = None
    failure: FailureKind | None = None
    refunded: int = 0
    dispute: DisputeStatus | None = None
    disputed_amount: int = 0
    action_expires_at: datetime | None = None  # set while it requires customer action

    @property
    def in_flight(self) -> bool:
        return self.status in (AttemptStatus.PENDING, AttemptStatus.REQUIRES_ACTION)

    @property
    def awaiting_customer(self) -> bool:
        return self.status is AttemptStatus.REQUIRES_ACTION

    def action_expired(self, now: datetime) -> bool:
        return (
            self.awaiting_customer
            and self.action_expires_at is not None
            and (now >= self.action_expires_at)
        )

    @property
    def refundable(self) -> Money:
        """Captured, not yet refunded, and not withdrawn by a dispute (pending or lost)."""
        if self.status is not AttemptStatus.SUCCEEDED:
            return Money.zero(self.amount.currency)
        withdrawn = self.disputed_amount if self.dispute in _FUNDS_WITHDRAWN else 0
        return Money(self.amount.amount - self.refunded - withdrawn, self.amount.currency)

    def succeeded(self, at: datetime, processor_payment_id: str) -> PaymentAttempt:
        self._require_pending()
        return replace(
            self,
            status=AttemptStatus.SUCCEEDED,
            settled_at=at,
            processor_payment_id=processor_payment_id,
        )

    def action_required(self, processor_payment_id: str, expires_at: datetime) -> PaymentAttempt:
        """Only a pending attempt: the processor asks once, at the charge."""
        if self.status is not AttemptStatus.PENDING:
            raise AttemptNotPending(self.attempt_id)
        return replace(
            self,
            status=AttemptStatus.REQUIRES_ACTION,
            processor_payment_id=processor_payment_id,
            action_expires_at=expires_at,
        )

    def failed(
        self, at: datetime, decline_code: str, kind: FailureKind | None = None
    ) -> PaymentAttempt:
        """`kind` is decided once, when the failure is recorded, so a later change of the
        hard-decline list never rewrites history on replay."""
        self._require_pending()
        return replace(
            self,
            status=AttemptStatus.FAILED,
            settled_at=at,
            decline_code=decline_code,
            failure=kind or failure_kind(decline_code),
        )

    def refund(self, amount: Money) -> PaymentAttempt:
        if not amount.is_positive:
            raise RefundTooLarge("A refund must be more than zero; nothing was refunded.")
        if self.refundable < amount:
            raise RefundTooLarge(
                f"A refund of {amount.decimal_text()} {amount.currency} is more than the"
                f" {self.refundable.decimal_text()} {amount.currency} left to refund on this"
                " payment; nothing was refunded."
            )
        return replace(self, refunded=self.refunded + amount.amount)

    def dispute_opened(self, amount: Money) -> PaymentAttempt:
        if self.status is not AttemptStatus.SUCCEEDED or self.dispute is not None:
            raise InvalidDisputeTransition("only an undisputed successful payment")
        captured_left = Money(self.amount.amount - self.refunded, self.amount.currency)
        if not amount.is_positive or captured_left < amount:
            raise InvalidDisputeTransition("disputed amount exceeds what was not refunded")
        return replace(self, dispute=DisputeStatus.NEEDS_RESPONSE, disputed_amount=amount.amount)

    def dispute_closed(self, won: bool) -> PaymentAttempt:
        if self.dispute not in (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW):
            raise InvalidDisputeTransition("no open dispute")
        return replace(self, dispute=DisputeStatus.WON if won else DisputeStatus.LOST)

    def _require_pending(self) -> None:
        if not self.in_flight:
            raise AttemptNotPending(self.attempt_id)
