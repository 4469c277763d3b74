"""Ports the write side depends on; adapters and test fakes implement them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeVar
from uuid import UUID

from ledger.errors import DomainError, ErrorKind
from ledger.money import Money
from ledger.payments import Processor
from ledger.subscriptions import Plan

if TYPE_CHECKING:
    from commands.reconcile import AccountCheck
    from ledger.account import Account

R_co = TypeVar("R_co", covariant=True)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class AccountClocks(Protocol):
    """Test clocks (development and tests only): the clock of an account attached to one,
    whose billing runs at that clock's time; None for every other account."""

    def clock_for(self, account_id: UUID) -> Clock | None: ...


class IdSource(Protocol):
    def __call__(self) -> UUID: ...


class PageLoader(Protocol):
    """Loads a page of accounts in a few round trips (the month-end billing run); may answer
    fewer than asked: the caller loads the others one by one, and that load says what is
    wrong with them."""

    def load_page(self, account_ids: Sequence[UUID]) -> dict[UUID, Account]: ...


class OneByOne:
    """Loads no page at once: every account is loaded one by one (the in-memory store)."""

    def load_page(self, account_ids: Sequence[UUID]) -> dict[UUID, Account]:
        return {}


class EventPositions(Protocol):
    """Where an account's event stands in the store's one order (its global position), so
    a repeated command can answer the position its first answer gave."""

    def position_of(self, account_id: UUID, version: int) -> int | None: ...


@dataclass(frozen=True)
class ChargeRequest:
    attempt_id: str  # the idempotency key sent to the processor
    processor: Processor
    method_ref: str
    customer_ref: str | None
    amount: Money
    on_session: bool
    account_id: UUID | None = None  # sent along (metadata) so processor events find it


@dataclass(frozen=True)
class ChargeResult:
    """What the processor answered. `requires_action` (3-D Secure and the like): the payment
    is not made until the customer authenticates with `client_secret` in their browser; it
    always comes with succeeded=False and a decline code (`authentication_required`), so a
    caller that knows nothing of it records a soft decline and never a success."""

    succeeded: bool
    processor_payment_id: str | None = None
    decline_code: str | None = None
    requires_action: bool = False
    client_secret: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    refund_id: str  # the idempotency key sent to the processor
    processor: Processor
    processor_payment_id: str
    amount: Money


class ProcessorUnavailable(DomainError):
    """The payment processor did not answer; the outcome is unknown and will be resolved."""

    code = "processor_unavailable"
    kind = ErrorKind.UNAVAILABLE


class PaymentGateway(Protocol):
    """Charges and refunds at Stripe (cards) or Braintree (PayPal). Raises
    ProcessorUnavailable when the outcome is unknown (timeout, outage)."""

    def charge(self, request: ChargeRequest) -> ChargeResult: ...

    def refund(self, request: RefundRequest) -> str:
        """Returns the processor's refund id."""
        ...

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        """What became of an earlier charge sent with this attempt id: its result, or None
        when the processor never saw it (then, and only then, charging again is safe).
        Raises ProcessorUnavailable when the processor cannot be asked."""
        ...

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        """Abandons a payment waiting for customer action (3-D Secure) so a late
        authentication can never capture it; safe to repeat. Returns what became of it: a
        failure (cancelled) or, when it had settled before the cancel, that outcome.
        Raises ProcessorUnavailable when the processor cannot be asked or the payment is
        still being processed."""
        ...


class Catalogue(Protocol):
    def plan(self, plan_id: str) -> Plan:
        """Raises PlanNotFound."""
        ...


@dataclass(frozen=True)
class ProviderCustomer:
    """A customer as the processor holds it (for syncing and reconciliation)."""

    customer_id: str
    account_id: str | None  # the ledger account it was created for (processor metadata)
    name: str | None
    email: str | None
    default_method_ref: str | None


@dataclass(frozen=True)
class CardSetup:
    """A started card setup (Stripe SetupIntent): the customer's browser completes it with
    `client_secret`, and the vaulted card's reference comes back through the front end."""

    setup_id: str
    client_secret: str
    status: str


@dataclass(frozen=True)
class VaultedCard:
    method_ref: str
    customer_ref: str | None
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class MethodDeclined(DomainError):
    """The processor refused to vault this payment method."""

    code = "payment_method_declined"
    kind = ErrorKind.DECLINED

    def __init__(self, detail: str | None = None, decline_code: str | None = None) -> None:
        super().__init__(detail)
        self.decline_code = decline_code


class ProcessorRefused(DomainError):
    """The processor refused the request (e.g. a refund of a payment it no longer holds as
    refundable): the ledger and the processor disagree, and nothing was done there."""

    code = "processor_refused"
    kind = ErrorKind.CONFLICT


class CurrencyNotSupportedByProcessor(DomainError):
    """The payment processor does not take this currency: nothing was sent to it."""

    code = "currency_not_supported_by_processor"
    kind = ErrorKind.INVALID


class AmountNotRepresentable(DomainError):
    """The amount cannot be expressed exactly in the processor's units for its currency
    (e.g. 123.45 MGA at Stripe, which takes whole ariary): nothing was sent, never rounded."""

    code = "amount_not_representable"
    kind = ErrorKind.INVALID


class ProviderCustomerNotFound(DomainError):
    """The processor has no such customer."""

    code = "provider_customer_not_found"
    kind = ErrorKind.NOT_FOUND


class CustomerDirectory(Protocol):
    """Customers at a processor, kept in step with the ledger's billing profile. Every
    method raises ProcessorUnavailable when the processor cannot be asked."""

    def create_customer(self, account_id: str, name: str, email: str) -> str:
        """The processor's customer id for this account, created unless one already exists
        for it (so calling it again is safe)."""
        ...

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        """Raises ProviderCustomerNotFound."""
        ...

    def get_customer(self, customer_id: str) -> ProviderCustomer | None: ...


class CardVault(Protocol):
    """Cards vaulted at the processor for a customer. Raises ProcessorUnavailable when the
    processor cannot be asked."""

    def start_card_setup(self, customer_id: str, setup_id: str) -> CardSetup:
        """`setup_id` is the idempotency key of the setup."""
        ...

    def confirmed_card(self, setup_id: str) -> str | None:
        """The payment method the customer confirmed the SetupIntent with (status
        succeeded: authenticated for later off-session use), else None."""
        ...

    def attach_card(self, customer_id: str, method_ref: str) -> VaultedCard:
        """Raises MethodDeclined when the card is refused."""
        ...

    def detach_card(self, method_ref: str) -> None: ...

    def set_default_card(self, customer_id: str, method_ref: str) -> None: ...

    def list_cards(self, customer_id: str) -> tuple[str, ...]:
        """The references of the cards attached to the customer at the processor (for
        reconciliation). Raises ProviderCustomerNotFound."""
        ...


@dataclass(frozen=True)
class ProcessorRefund:
    refund_id: str  # the processor's id (re_...)
    ledger_refund_id: str | None  # the ledger's refund id sent along, when it made it
    amount: int  # minor units
    # The whole payment reversed without a refund of its own (Braintree voids an unsettled
    # sale): no refund id travels with it, `refund_id` is the payment's.
    voided: bool = False


class DisputeState(StrEnum):
    OPEN = "open"  # funds withdrawn (or about to be), not decided
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class ProcessorDispute:
    """A chargeback as its processor holds it now. Inquiries that withdraw no funds (Stripe's
    `warning_*`) are not disputes here, as they are not in the ledger."""

    dispute_id: str
    state: DisputeState
    amount: int  # minor units disputed


@dataclass(frozen=True)
class ProcessorPayment:
    """A captured payment as its processor holds it now, with its refunds (reconciliation)."""

    processor_payment_id: str
    amount: int  # minor units captured
    currency: str
    refunds: tuple[ProcessorRefund, ...]  # made or being made (not failed or cancelled)
    # None: the processor was not asked about disputes (it cannot answer, e.g. localstripe)
    disputes: tuple[ProcessorDispute, ...] | None = None


class PaymentLookup(Protocol):
    def find_payment(self, processor_payment_id: str) -> ProcessorPayment | None:
        """None when the processor has no such payment. Raises ProcessorUnavailable."""
        ...


class CheckStore(Protocol):
    """Where reconciliation checks are kept (the `reconciliation_*` read model)."""

    def store(self, check: AccountCheck) -> bool:
        """False (nothing written) when a newer check of the account is stored already."""
        ...


class Refolds(Protocol[R_co]):
    """Rebuilding one account's read-model rows from its whole stream (the projections'
    writers). `claim` holds the account's recompute (RecomputeInProgress while another
    runs) until its block ends, and yields the refold to run inside it."""

    def projection_names(self) -> list[str]: ...

    def claim(self, account_id: UUID) -> AbstractContextManager[Callable[[], R_co]]: ...
