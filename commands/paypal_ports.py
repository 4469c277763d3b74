"""The PayPal vault at Braintree: the port the PayPal commands (add a PayPal method, token
migration) depend on. The adapter is adapters/braintree; charges and refunds go through
commands.ports.PaymentGateway like any processor's.

The point of the vault record is the collection path: only a PayPal account vaulted as a
billing agreement can be charged off-session by dunning. An account vaulted through the
one-time (or legacy future-payments) path has no billing agreement; it is the "wrong vaulting
path" the token migration looks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ledger.errors import DomainError, ErrorKind


@dataclass(frozen=True)
class PayPalCustomer:
    customer_id: str
    name: str | None
    email: str | None
    default_method_ref: str | None
    method_refs: tuple[str, ...]


@dataclass(frozen=True)
class VaultedPayPal:
    """A PayPal account in the Braintree vault."""

    method_ref: str  # the Braintree payment-method token
    customer_id: str
    billing_agreement_id: str | None
    payer_email: str | None
    is_default: bool
    revoked: bool = False

    @property
    def is_billing_agreement(self) -> bool:
        """Vaulted on the correct path: chargeable off-session (renewals, dunning)."""
        return self.billing_agreement_id is not None


class PayPalVaultRefused(DomainError):
    """Braintree refused to vault the PayPal account (unknown or used nonce, and so on)."""

    code = "paypal_vault_refused"
    kind = ErrorKind.DECLINED

    def __init__(self, detail: str | None = None, processor_codes: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.processor_codes = processor_codes


class PayPalCustomerNotFound(DomainError):
    """Braintree has no such customer."""

    code = "paypal_customer_not_found"
    kind = ErrorKind.NOT_FOUND


class PayPalMethodNotFound(DomainError):
    """Braintree has no such payment method."""

    code = "paypal_method_not_found"
    kind = ErrorKind.NOT_FOUND


class PayPalAccountRevoked(DomainError):
    """The customer cancelled this PayPal account at PayPal: it cannot be charged or
    re-vaulted until they approve PayPal again."""

    code = "paypal_account_revoked"
    kind = ErrorKind.REFUSED


class RefundRefused(DomainError):
    """The processor refused the refund (already refunded, more than captured, ...)."""

    code = "refund_refused"
    kind = ErrorKind.CONFLICT


class PayPalVault(Protocol):
    """Customers and PayPal accounts at Braintree. Every method raises
    commands.ports.ProcessorUnavailable when Braintree cannot be asked."""

    def create_customer(self, account_id: str, name: str | None, email: str | None) -> str:
        """The Braintree customer id for this ledger account, created unless it exists
        already (the id is the account id, so calling again is safe)."""
        ...

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        """Raises PayPalCustomerNotFound."""
        ...

    def find_customer(self, customer_id: str) -> PayPalCustomer | None: ...

    def vault_nonce(
        self, customer_id: str, nonce: str, *, method_ref: str, make_default: bool = False
    ) -> VaultedPayPal:
        """Vaults the nonce from the browser as the payment-method token `method_ref`
        (choose it deterministically, e.g. from the command id: after an unknown outcome
        the vault looks it up rather than vaulting twice). The result tells whether it is a
        billing agreement. Raises PayPalVaultRefused, PayPalCustomerNotFound."""
        ...

    def find_method(self, method_ref: str) -> VaultedPayPal | None: ...

    def revault_as_billing_agreement(
        self, customer_id: str, old_ref: str, *, new_ref: str, make_default: bool = False
    ) -> VaultedPayPal:
        """Vaults the PayPal account behind the customer's token `old_ref` again, as a billing
        agreement under the token `new_ref` (the token migration). Choose `new_ref`
        deterministically: when it is vaulted already (a repeat, or a retry after a crash or
        an unknown outcome) it is returned without vaulting again. `old_ref` stays in the
        vault. Raises PayPalMethodNotFound (no such token for this customer),
        PayPalAccountRevoked, PayPalVaultRefused (refused, or no billing agreement came back:
        the customer has to approve PayPal again)."""
        ...

    def delete_method(self, method_ref: str) -> None:
        """Deleting a method that is already gone is not an error."""
        ...

    def make_default(self, method_ref: str) -> None:
        """Raises PayPalMethodNotFound."""
        ...

    def client_token(self, customer_id: str | None = None) -> str:
        """A client token for the browser's drop-in (PayPal checkout with vaulting).
        Raises PayPalCustomerNotFound for an unknown customer id."""
        ...
