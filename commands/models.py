"""Commands: what a caller asks the ledger to do. Frozen, validated at the edge by pydantic;
the domain checks the same rules again as invariants."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from commands.errors import CustomerReasonRefused
from commands.references import (
    ANY_REFERENCE,
    BRAINTREE_ID,
    RefKind,
    anchored,
    any_reference,
    braintree_token,
    check_reference,
    stripe_method,
    stripe_shape,
)
from commands.text import (
    TEXT_PATTERN,
    refuse_control_characters,
    refuse_control_input,
    refuse_unsafe_id,
    refuse_unsafe_input,
)
from ledger.meta import ActorKind, Surface
from ledger.money import MAX_AMOUNT
from ledger.payments import Processor

# Every text field of a command (and of the HTTP bodies, which use these types) is one of
# these: `commands.text` refuses control characters, invisible bidi controls and card
# numbers in all of them (tax ids and Turnstile tokens: the characters only, see below).
SafeText = BeforeValidator(refuse_unsafe_input)


class _SchemaPattern:
    """Writes a validator's rule into the JSON schema as a `pattern` (what the API's
    documentation and schema-driven test generators read)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


TextSchema = _SchemaPattern(TEXT_PATTERN)
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    SafeText,
    TextSchema,
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
    SafeText,
    TextSchema,
]
Email = Annotated[EmailStr, SafeText, TextSchema]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
# A tax id is shape-checked (here and per country in the domain), and many are long digit
# runs with their own check digit (a Japanese corporate number, a Brazilian CNPJ): one in
# ten of those also passes Luhn, so tax ids get the character rule only.
TaxId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9+*-]{0,20}$"),
    BeforeValidator(refuse_control_input),
]
# Ids the ledger made (methods, invoices, subscriptions, credits, attempts, sessions) or that
# name a catalogue entry (plans): letters, digits and `_.:-`, as UUIDs and slugs are.
LedgerId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$"),
    AfterValidator(refuse_unsafe_id),
]
# Amounts: integer minor units, strictly (no "100", true, 1e2 or 100.0), at most what the
# processors take in one payment (`ledger.money.MAX_AMOUNT`).
Amount = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT, description="minor units")]
# Processor references by shape (`commands.references`); where the processor is a sibling
# field, the model checks the shape of that processor too.
ProcessorRef = Annotated[
    str, AfterValidator(any_reference), _SchemaPattern(anchored(ANY_REFERENCE))
]
StripeMethodRef = Annotated[
    str,
    AfterValidator(stripe_method),
    _SchemaPattern(anchored(stripe_shape(RefKind.METHOD))),
    Field(description="Stripe pm_... (or card_/src_)"),
]
BraintreeToken = Annotated[
    str,
    AfterValidator(braintree_token),
    _SchemaPattern(anchored(BRAINTREE_ID)),
    Field(description="Braintree payment-method token"),
]
# Opaque one-time values handed to a processor or to Turnstile, never recorded.
Nonce = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500, pattern=r"^[A-Za-z0-9_.:-]+$"),
    AfterValidator(refuse_unsafe_id),
]
TurnstileToken = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048),
    AfterValidator(refuse_control_characters),
    TextSchema,
]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommandContext(BaseModel):
    """Who asks, through which surface, why, and as part of which request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: Annotated[
        str, StringConstraints(min_length=1, max_length=200), AfterValidator(refuse_unsafe_id)
    ]
    actor_kind: ActorKind
    surface: Surface
    reason: Reason | None = None
    correlation_id: UUID = Field(default_factory=uuid4)
    causation_id: UUID | None = None
    command_id: UUID | None = None
    # The request the command id (idempotency key) was sent with (`commands.base.fingerprint`):
    # the same id with another request is refused, never answered as a replay.
    fingerprint: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _customers_give_no_reason(self) -> CommandContext:
        """The reason is the audit trail's (support's why): a customer cannot write it."""
        if self.actor_kind is ActorKind.CUSTOMER and self.reason is not None:
            raise CustomerReasonRefused()
        return self


# A command's own fields, shared with its HTTP body (adapters/http), which adds only what the
# surface takes besides (a reason): the ids of the path and the context are the command's.


class ProfileFields(BaseModel):
    name: Name
    email: Email
    country: Country
    currency: Currency
    tax_id: TaxId | None = None


class OpenAccount(Command, ProfileFields):
    """Opens an account with a billing profile (ProfileFields)."""


class ProfileChanges(BaseModel):
    name: Name | None = None
    email: Email | None = None
    country: Country | None = None
    currency: Currency | None = None
    tax_id: TaxId | None = Field(default=None, description="empty string removes it")


class UpdateProfile(Command, ProfileChanges):
    account_id: UUID


class CloseAccount(Command):
    account_id: UUID


class ForgetAccount(Command):
    """Forget the account's personal data (support only, with a reason): record
    `AccountForgotten`, destroy the account's data key."""

    account_id: UUID


class RecomputeAccount(Command):
    """Refold the account's rows in every projection from its whole stream (support only,
    with a reason)."""

    account_id: UUID


# --- payment methods ------------------------------------------------------------------

MethodId = LedgerId


CardBrand = Annotated[str, StringConstraints(min_length=1, max_length=30), SafeText, TextSchema]
Last4 = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
ExpMonth = Annotated[StrictInt, Field(ge=1, le=12)]
ExpYear = Annotated[StrictInt, Field(ge=2000, le=2100)]


class CardFields(BaseModel):
    processor_ref: StripeMethodRef
    brand: CardBrand
    last4: Last4
    exp_month: ExpMonth
    exp_year: ExpYear
    make_default: bool = True


class AddCard(Command, CardFields):
    account_id: UUID


class PayPalFields(BaseModel):
    token: BraintreeToken
    billing_agreement_id: ProcessorRef | None = None
    payer_email: Email
    make_default: bool = True


class AddPayPal(Command, PayPalFields):
    account_id: UUID
    legacy_vault: bool = False  # vaulted through the old path; token migration fixes it


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


class NewTokenFields(BaseModel):
    new_token: BraintreeToken
    billing_agreement_id: ProcessorRef


class MigrateToken(Command, NewTokenFields):
    account_id: UUID
    method_id: MethodId


class ProviderCustomerFields(BaseModel):
    """A processor's customer, its id in that processor's shape (shared with the body)."""

    processor: Processor
    customer_id: ProcessorRef

    @model_validator(mode="after")
    def _customer_id_shape(self) -> ProviderCustomerFields:
        check_reference(self.processor, RefKind.CUSTOMER, self.customer_id)
        return self


class LinkProviderCustomer(Command, ProviderCustomerFields):
    account_id: UUID


class SyncFields(BaseModel):
    processor: Processor = Processor.STRIPE
    force: bool = False


class SyncProviderCustomer(Command, SyncFields):
    """Create the account's customer at the processor, or bring it up to date with the
    billing profile. A customer edited at the processor since the ledger last wrote it is
    not overwritten unless `force` (a repair, with a reason)."""

    account_id: UUID


class StartCardSetup(Command):
    account_id: UUID


PaymentMethodId = Annotated[
    str,
    StringConstraints(pattern=r"^pm_[A-Za-z0-9_]{1,190}$"),
    AfterValidator(stripe_method),
    Field(description="Stripe pm_..."),
]


class VaultedCardFields(BaseModel):
    payment_method: PaymentMethodId
    make_default: bool = True


class AddVaultedCard(Command, VaultedCardFields):
    """A card the customer's browser confirmed on a SetupIntent: its details come from
    Stripe, never from the caller."""

    account_id: UUID


class NonceFields(BaseModel):
    nonce: Nonce
    make_default: bool = True


class VaultPayPal(Command, NonceFields):
    """A PayPal account approved in the browser (Braintree drop-in): the nonce is vaulted."""

    account_id: UUID


class SessionFields(BaseModel):
    method: Literal["card", "paypal"]
    pay_open_invoices: bool = False


class StartPaymentSession(Command, SessionFields):
    account_id: UUID


class CompletionFields(BaseModel):
    turnstile_token: TurnstileToken
    payment_method: PaymentMethodId | None = None
    nonce: Nonce | None = None


class CompletePaymentSession(Command, CompletionFields):
    account_id: UUID
    session_id: LedgerId


# --- subscriptions and invoices -------------------------------------------------------

PlanId = LedgerId


class PlanFields(BaseModel):
    plan_id: PlanId
    on_session: bool = True


class Subscribe(Command, PlanFields):
    account_id: UUID


class ChangeFields(PlanFields):
    quoted_at: AwareDatetime | None = Field(
        default=None,
        description="a plan preview's `quoted_at`: prorate as of then, so the change charges"
        " what the preview showed (409 quote_expired when older than 30 minutes, in the"
        " future or before the current period); unset: as of now",
    )


class ChangePlan(Command, ChangeFields):
    account_id: UUID
    subscription_id: MethodId


class CancelFields(BaseModel):
    at_period_end: bool = True


class CancelSubscription(Command, CancelFields):
    account_id: UUID
    subscription_id: MethodId


class PayFields(BaseModel):
    method_id: MethodId | None = None  # default method when not given


class PayInvoice(Command, PayFields):
    account_id: UUID
    invoice_id: MethodId
    on_session: bool = True


class VoidInvoice(Command):
    account_id: UUID
    invoice_id: MethodId


class RunBilling(Command):
    """Renewals, dunning and credit expiry that are due now, for these accounts."""

    account_ids: list[UUID] = Field(min_length=1, max_length=10_000)


# --- money after the fact -------------------------------------------------------------


class RefundFields(BaseModel):
    amount: Amount


class RefundPayment(Command, RefundFields):
    account_id: UUID
    attempt_id: MethodId


class OutOfBandFields(BaseModel):
    """A payment made at a processor, its reference in that processor's shape."""

    processor: Processor
    reference: ProcessorRef

    @model_validator(mode="after")
    def _reference_shape(self) -> OutOfBandFields:
        check_reference(self.processor, RefKind.PAYMENT, self.reference)
        return self


class RecordOutOfBandPayment(Command, OutOfBandFields):
    account_id: UUID
    invoice_id: MethodId


class OpenDispute(Command):
    account_id: UUID
    attempt_id: MethodId
    dispute_id: ProcessorRef
    amount: Amount


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
    amount: Amount
    currency: Currency


class RecordDisputeOpened(Command):
    account_id: UUID
    attempt_id: MethodId
    processor_payment_id: ProcessorRef
    dispute_id: ProcessorRef
    amount: Amount
    currency: Currency


class RecordDisputeClosed(RecordDisputeOpened):
    won: bool


class RecordPayPalRevoked(Command):
    account_id: UUID
    token: BraintreeToken  # the payment-method token the customer revoked


class CreditFields(BaseModel):
    amount: Amount
    currency: Currency
    expires_at: AwareDatetime | None = None


class GrantCredit(Command, CreditFields):
    account_id: UUID


class RevokeCredit(Command):
    account_id: UUID
    credit_id: MethodId


class BadDebtFields(PayFields):
    invoice_ids: Annotated[list[MethodId], Field(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="the uncollectible invoices to charge, oldest first whatever the order"
        " given (default: every uncollectible invoice); an unknown one is refused"
        " (invoice_not_found), as is one that is not uncollectible (invoice_not_uncollectible)",
    )


class PayBadDebt(Command, BadDebtFields):
    account_id: UUID


class WriteOffBadDebt(Command):
    account_id: UUID
    invoice_id: MethodId


class MarkUncollectible(Command):
    """Support gives up on an open or past-due invoice before dunning does: it becomes
    uncollectible, the account is in bad debt (paid later through PayBadDebt, or written
    off with WriteOffBadDebt)."""

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


class RepairFields(BaseModel):
    """What a repair names (shared with the body). A method reference is checked in the
    shape of `processor`, where it is detached; a refund or dispute belongs to the
    attempt's processor (and a refund id may be the ledger's own), so those two have the
    shape of any reference."""

    action: RepairAction
    processor: Processor = Processor.STRIPE
    method_ref: ProcessorRef | None = None
    method_id: MethodId | None = None
    attempt_id: MethodId | None = None
    refund_id: ProcessorRef | None = None  # the processor's refund id (record-refund)
    dispute_id: ProcessorRef | None = None  # the processor's dispute id (record-dispute)

    @model_validator(mode="after")
    def _method_ref_shape(self) -> RepairFields:
        if self.method_ref is not None:
            check_reference(self.processor, RefKind.METHOD, self.method_ref)
        return self


class RepairReconciliation(Command, RepairFields):
    """An explicit repair of a reconciliation finding (support, with a reason), recorded as
    `ReconciliationRepaired` besides whatever events the repair itself records."""

    account_id: UUID


class CheckAuthentication(Command):
    """The customer's browser says 3-D Secure of the payment `attempt_id` (for `invoice_id`)
    is done: the ledger asks the processor and records what it answers."""

    account_id: UUID
    invoice_id: MethodId
    attempt_id: MethodId
