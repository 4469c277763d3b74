"""Commands: what a caller asks the ledger to do. Frozen, validated at the edge by pydantic;
the domain checks the same rules again as invariants."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from ledger.meta import ActorKind, Surface
from ledger.payments import Processor

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
TaxId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9+*-]{0,20}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommandContext(BaseModel):
    """Who asks, through which surface, why, and as part of which request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: str = Field(min_length=1, max_length=200)
    actor_kind: ActorKind
    surface: Surface
    reason: Reason | None = None
    correlation_id: UUID = Field(default_factory=uuid4)
    causation_id: UUID | None = None
    command_id: UUID | None = None
    # The request the command id (idempotency key) was sent with (`commands.base.fingerprint`):
    # the same id with another request is refused, never answered as a replay.
    fingerprint: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class OpenAccount(Command):
    name: Name
    email: EmailStr
    country: Country
    currency: Currency
    tax_id: TaxId | None = None


class UpdateProfile(Command):
    account_id: UUID
    name: Name | None = None
    email: EmailStr | None = None
    country: Country | None = None
    currency: Currency | None = None
    tax_id: TaxId | None = Field(default=None, description="empty string removes it")


class CloseAccount(Command):
    account_id: UUID


# --- payment methods ------------------------------------------------------------------

MethodId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ProcessorRef = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AddCard(Command):
    account_id: UUID
    processor_ref: ProcessorRef  # Stripe pm_...
    brand: Annotated[str, StringConstraints(min_length=1, max_length=30)]
    last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")]
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    make_default: bool = True


class AddPayPal(Command):
    account_id: UUID
    token: ProcessorRef  # Braintree payment-method token
    billing_agreement_id: str | None = None
    payer_email: EmailStr
    legacy_vault: bool = False  # vaulted through the old path; token migration fixes it
    make_default: bool = True


class SetDefaultMethod(Command):
    account_id: UUID
    method_id: MethodId


class RemoveMethod(Command):
    account_id: UUID
    method_id: MethodId


class ExpireMethod(Command):
    account_id: UUID
    method_id: MethodId


class RevokePayPal(Command):
    account_id: UUID
    method_id: MethodId


class MigrateToken(Command):
    account_id: UUID
    method_id: MethodId
    new_token: ProcessorRef
    billing_agreement_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class LinkProviderCustomer(Command):
    account_id: UUID
    processor: Processor
    customer_id: ProcessorRef


class SyncProviderCustomer(Command):
    """Create the account's customer at the processor, or bring it up to date with the
    billing profile. A customer edited at the processor since the ledger last wrote it is
    not overwritten unless `force` (a repair, with a reason)."""

    account_id: UUID
    processor: Processor = Processor.STRIPE
    force: bool = False


class StartCardSetup(Command):
    account_id: UUID


class AddVaultedCard(Command):
    """A card the customer's browser confirmed on a SetupIntent: its details come from
    Stripe, never from the caller."""

    account_id: UUID
    payment_method: Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,190}$")]
    make_default: bool = True


class VaultPayPal(Command):
    """A PayPal account approved in the browser (Braintree drop-in): the nonce is vaulted."""

    account_id: UUID
    nonce: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    make_default: bool = True


class StartPaymentSession(Command):
    account_id: UUID
    method: Literal["card", "paypal"]
    pay_open_invoices: bool = False


class CompletePaymentSession(Command):
    account_id: UUID
    session_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    turnstile_token: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    payment_method: (
        Annotated[str, StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,190}$")] | None
    ) = None
    nonce: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


# --- subscriptions and invoices -------------------------------------------------------

PlanId = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Subscribe(Command):
    account_id: UUID
    plan_id: PlanId
    on_session: bool = True


class ChangePlan(Command):
    account_id: UUID
    subscription_id: MethodId
    plan_id: PlanId
    on_session: bool = True


class CancelSubscription(Command):
    account_id: UUID
    subscription_id: MethodId
    at_period_end: bool = True


class PayInvoice(Command):
    account_id: UUID
    invoice_id: MethodId
    method_id: MethodId | None = None  # default method when not given
    on_session: bool = True


class VoidInvoice(Command):
    account_id: UUID
    invoice_id: MethodId


class RunBilling(Command):
    """Renewals, dunning and credit expiry that are due now, for these accounts."""

    account_ids: list[UUID] = Field(min_length=1, max_length=10_000)


# --- money after the fact -------------------------------------------------------------


class RefundPayment(Command):
    account_id: UUID
    attempt_id: MethodId
    amount: int = Field(gt=0)


class RecordOutOfBandPayment(Command):
    account_id: UUID
    invoice_id: MethodId
    processor: Processor
    reference: ProcessorRef


class OpenDispute(Command):
    account_id: UUID
    attempt_id: MethodId
    dispute_id: ProcessorRef
    amount: int = Field(gt=0)


class CloseDispute(Command):
    account_id: UUID
    attempt_id: MethodId
    won: bool


# --- facts a processor reports (webhooks) -----------------------------------------------


class RecordProcessorRefund(Command):
    """A refund the processor made (e.g. at its dashboard, or one of ours whose recording a
    crash lost): recorded, never asked for again."""

    account_id: UUID
    attempt_id: MethodId
    processor_payment_id: ProcessorRef  # the payment the processor refunded
    refund_id: ProcessorRef
    amount: int = Field(gt=0)
    currency: Currency


class RecordDisputeOpened(Command):
    account_id: UUID
    attempt_id: MethodId
    processor_payment_id: ProcessorRef
    dispute_id: ProcessorRef
    amount: int = Field(gt=0)
    currency: Currency


class RecordDisputeClosed(RecordDisputeOpened):
    won: bool


class RecordPayPalRevoked(Command):
    account_id: UUID
    token: ProcessorRef  # the Braintree payment-method token the customer revoked


class GrantCredit(Command):
    account_id: UUID
    amount: int = Field(gt=0)
    currency: Currency
    expires_at: AwareDatetime | None = None


class RevokeCredit(Command):
    account_id: UUID
    credit_id: MethodId


class PayBadDebt(Command):
    account_id: UUID
    method_id: MethodId | None = None


class WriteOffBadDebt(Command):
    account_id: UUID
    invoice_id: MethodId


# --- reconciliation ---------------------------------------------------------------------


class RepairAction(StrEnum):
    PUSH_CUSTOMER = "push-customer"  # write the billing profile over the processor's customer
    ADOPT_CUSTOMER = "adopt-customer"  # take the processor's name and email into the profile
    PUSH_DEFAULT = "push-default"  # make the ledger's default the processor's default
    DETACH_METHOD = "detach-method"  # detach a method the ledger does not use (`method_ref`)
    REMOVE_METHOD = "remove-method"  # remove a method gone at the processor (`method_id`)
    RESOLVE_ATTEMPT = "resolve-attempt"  # record what the processor says of `attempt_id`
    RECORD_REFUND = "record-refund"  # record a refund made at the processor (`refund_id`)
    RECORD_DISPUTE = "record-dispute"  # record a dispute, or its close, as the processor has it


class RepairReconciliation(Command):
    """An explicit repair of a reconciliation finding (support, with a reason), recorded as
    `ReconciliationRepaired` besides whatever events the repair itself records."""

    account_id: UUID
    action: RepairAction
    processor: Processor = Processor.STRIPE
    method_ref: ProcessorRef | None = None
    method_id: MethodId | None = None
    attempt_id: MethodId | None = None
    refund_id: ProcessorRef | None = None  # the processor's refund id (record-refund)
    dispute_id: ProcessorRef | None = None  # the processor's dispute id (record-dispute)
