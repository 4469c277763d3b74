"""Payment methods and the collection path they imply.

The collection path of every subscription is derived from the account's methods, never
stored: a stored copy drifts (the "adding PayPal flips every subscription" trap). The rule:
the default method decides. A PayPal default vaulted as a billing agreement means Stripe
invoices are sent (`send_invoice`, due in N days) and collected through Braintree; a card
default, no usable default, or a PayPal default vaulted through the legacy path (no billing
agreement) means Stripe charges automatically. The last one is the brief's "wrong dunning
path": such a customer is charged at once and dunned on failed charges rather than on the
invoice falling due, until the token migration re-vaults the method as an agreement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from ledger.errors import DomainError, ErrorKind
from ledger.values import Immutable


class MethodKind(StrEnum):
    CARD = "card"
    PAYPAL = "paypal"


class MethodState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"  # the customer cancelled the PayPal billing agreement
    REMOVED = "removed"


class VaultPath(StrEnum):
    BILLING_AGREEMENT = "billing_agreement"  # the correct PayPal vaulting path
    LEGACY = "legacy"  # vaulted through a wrong path; needs token migration


class CollectionPath(StrEnum):
    STRIPE_AUTOMATIC = "charge_automatically"
    PAYPAL_SEND_INVOICE = "send_invoice"


class MethodNotFound(DomainError):
    """No such payment method on this account."""

    code = "payment_method_not_found"
    kind = ErrorKind.NOT_FOUND


class MethodNotUsable(DomainError):
    """The payment method is expired, revoked or removed."""

    code = "payment_method_not_usable"
    kind = ErrorKind.REFUSED


class MethodNeeded(DomainError):
    """This is the only payment method left for a subscription that renews: add another
    payment method first, or cancel the subscription."""

    code = "payment_method_needed"
    kind = ErrorKind.REFUSED


class MethodAlreadyAdded(DomainError):
    """This processor reference is already on the account."""

    code = "payment_method_already_added"
    kind = ErrorKind.CONFLICT


class InvalidMethod(DomainError):
    """The payment method details are not valid."""

    code = "invalid_payment_method"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class PaymentMethod(Immutable):
    method_id: str
    kind: MethodKind
    processor_ref: str  # Stripe pm_..., or the Braintree payment-method token
    added_seq: int
    state: MethodState = MethodState.ACTIVE
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    billing_agreement_id: str | None = None
    payer_email: str | None = None
    vault_path: VaultPath | None = None

    @property
    def usable(self) -> bool:
        return self.state is MethodState.ACTIVE

    def with_state(self, state: MethodState) -> PaymentMethod:
        return replace(self, state=state)


def check_card(brand: str, last4: str, exp_month: int, exp_year: int) -> None:
    if not (len(last4) == 4 and last4.isdigit()):
        raise InvalidMethod("last4 must be four digits")
    if not 1 <= exp_month <= 12 or not 2000 <= exp_year <= 2100:
        raise InvalidMethod("expiry month or year out of range")
    if not brand.strip():
        raise InvalidMethod("brand is required")


class MethodStanding(Protocol):
    """What the rules below read of a method: the account's PaymentMethod has it, and so
    does a read model's summary of one (projections/health.py), which then applies the
    same rules instead of a copy of them."""

    @property
    def kind(self) -> MethodKind: ...

    @property
    def added_seq(self) -> int: ...

    @property
    def usable(self) -> bool: ...

    @property
    def vault_path(self) -> VaultPath | None: ...


def default_after_removal(
    methods: Mapping[str, MethodStanding], removed_id: str, current_default: str | None
) -> str | None:
    """When the default goes away, the most recently added usable method takes its place.
    `methods` is keyed by method id."""
    if current_default != removed_id:
        return current_default
    usable = [(m.added_seq, k) for k, m in methods.items() if m.usable and k != removed_id]
    return max(usable)[1] if usable else None


def needed(methods: Mapping[str, MethodStanding], method_id: str, renewing: bool) -> bool:
    """The last usable method stays while a subscription renews (one canceled, or set to end
    at its period's end, needs none): removing it is refused (`MethodNeeded`)."""
    others = any(m.usable for k, m in methods.items() if k != method_id)
    return renewing and methods[method_id].usable and not others


def collection_path(
    methods: Mapping[str, MethodStanding], default_id: str | None
) -> CollectionPath:
    default = methods.get(default_id) if default_id else None
    if default is not None and default.usable and is_paypal_agreement(default):
        return CollectionPath.PAYPAL_SEND_INVOICE
    return CollectionPath.STRIPE_AUTOMATIC


def is_paypal_agreement(method: MethodStanding) -> bool:
    """A PayPal method on the correct path (a legacy-vaulted one is not, until migrated)."""
    return method.kind is MethodKind.PAYPAL and method.vault_path is not VaultPath.LEGACY
