"""commands.paypal_ports.PayPalVault over the official SDK: Braintree customers (id = the
ledger account id) and PayPal accounts vaulted from the browser's nonce."""

from __future__ import annotations

from typing import Any

import braintree
import structlog
from braintree.exceptions import NotFoundError

from adapters.braintree.client import BraintreeClient
from commands.paypal_ports import (
    PayPalAccountRevoked,
    PayPalCustomer,
    PayPalCustomerNotFound,
    PayPalMethodNotFound,
    PayPalVaultRefused,
    VaultedPayPal,
)
from commands.ports import ProcessorUnavailable

log = structlog.get_logger("braintree")

CUSTOMER_ID_TAKEN = "91609"
CUSTOMER_ID_INVALID = "93105"  # on payment method create


class BraintreePayPalVault:
    def __init__(self, client: BraintreeClient) -> None:
        self._client = client

    # customers ---------------------------------------------------------------------------
    def create_customer(self, account_id: str, name: str | None, email: str | None) -> str:
        sdk = self._client.sdk
        params = {"id": account_id, "first_name": name, "email": email}
        params = {k: v for k, v in params.items() if v is not None}
        # repeatable: the id is ours, so a repeat answers "taken" and we find it
        result = self._client.guard.read("customer create", lambda: sdk.customer.create(params))
        if result.is_success:
            return str(result.customer.id)
        codes = _codes(result)
        if CUSTOMER_ID_TAKEN in codes and self.find_customer(account_id) is not None:
            return account_id
        raise PayPalVaultRefused(result.message, tuple(codes))

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        params = {"first_name": name, "email": email}
        params = {k: v for k, v in params.items() if v is not None}
        sdk = self._client.sdk
        try:
            result = self._client.guard.read(
                "customer update", lambda: sdk.customer.update(customer_id, params)
            )
        except NotFoundError:
            raise PayPalCustomerNotFound(customer_id) from None
        if not result.is_success:
            raise PayPalVaultRefused(result.message, tuple(_codes(result)))

    def find_customer(self, customer_id: str) -> PayPalCustomer | None:
        sdk = self._client.sdk
        try:
            c = self._client.guard.read("customer find", lambda: sdk.customer.find(customer_id))
        except NotFoundError:
            return None
        methods = getattr(c, "payment_methods", [])
        default = next((m.token for m in methods if getattr(m, "default", False)), None)
        return PayPalCustomer(
            customer_id=str(c.id),
            name=c.first_name or None,
            email=c.email or None,
            default_method_ref=default,
            method_refs=tuple(m.token for m in methods),
        )

    # PayPal accounts -------------------------------------------------------------------
    def vault_nonce(
        self, customer_id: str, nonce: str, *, method_ref: str, make_default: bool = False
    ) -> VaultedPayPal:
        params = {
            "customer_id": customer_id,
            "payment_method_nonce": nonce,
            "token": method_ref,
            "options": {"make_default": make_default},
        }
        sdk = self._client.sdk
        try:
            result = self._client.guard.once("vault", lambda: sdk.payment_method.create(params))
        except ProcessorUnavailable:
            # the nonce may be spent already: look for the token instead of sending it again
            if (found := self._ours(method_ref, customer_id)) is not None:
                return found
            raise
        if result.is_success:
            return _vaulted(result.payment_method)
        codes = _codes(result)
        if (found := self._ours(method_ref, customer_id)) is not None:
            return found  # a repeat of a vaulting that succeeded
        if CUSTOMER_ID_INVALID in codes:
            raise PayPalCustomerNotFound(customer_id)
        log.warning("braintree_vault_refused", customer_id=customer_id, codes=codes)
        raise PayPalVaultRefused(result.message, tuple(codes))

    def _ours(self, method_ref: str, customer_id: str) -> VaultedPayPal | None:
        found = self.find_method(method_ref)
        return found if found is not None and found.customer_id == customer_id else None

    def find_method(self, method_ref: str) -> VaultedPayPal | None:
        """None also for a method that is not a PayPal account."""
        sdk = self._client.sdk
        try:
            method = self._client.guard.read(
                "method find", lambda: sdk.payment_method.find(method_ref)
            )
        except NotFoundError:
            return None
        return _vaulted(method) if isinstance(method, braintree.PayPalAccount) else None

    # token migration ---------------------------------------------------------------------
    def revault_as_billing_agreement(
        self, customer_id: str, old_ref: str, *, new_ref: str, make_default: bool = False
    ) -> VaultedPayPal:
        """A payment method nonce made from the vaulted token (`PaymentMethodNonce.create`),
        vaulted again with `PaymentMethod.create` under our token `new_ref`. Braintree's
        answer says whether PayPal gave a billing agreement; a copy without one is deleted
        again (it would be one more wrong-path record) and the migration refused."""
        if (done := self._ours(new_ref, customer_id)) is not None:
            log.info("braintree_revault_found", method_ref=new_ref)  # a repeat or a resume
            if done.revoked:
                raise PayPalAccountRevoked(new_ref)
            return self._agreement_or_refuse(done)
        old = self._ours(old_ref, customer_id)
        if old is None:
            raise PayPalMethodNotFound(old_ref)
        if old.revoked:
            raise PayPalAccountRevoked(old_ref)
        nonce = self._nonce_for(old_ref)
        vaulted = self.vault_nonce(
            customer_id, nonce, method_ref=new_ref, make_default=make_default
        )
        return self._agreement_or_refuse(vaulted)

    def _nonce_for(self, method_ref: str) -> str:
        """Safe to repeat: a nonce changes nothing in the vault, and a lost one expires."""
        sdk = self._client.sdk
        try:
            result = self._client.guard.read(
                "method nonce", lambda: sdk.payment_method_nonce.create(method_ref)
            )
        except NotFoundError:
            raise PayPalMethodNotFound(method_ref) from None
        if not result.is_success:
            codes = _codes(result)
            log.warning("braintree_nonce_refused", method_ref=method_ref, codes=codes)
            raise PayPalVaultRefused(result.message, tuple(codes))
        return str(result.payment_method_nonce.nonce)

    def _agreement_or_refuse(self, vaulted: VaultedPayPal) -> VaultedPayPal:
        if vaulted.is_billing_agreement:
            return vaulted
        self.delete_method(vaulted.method_ref)
        log.warning("braintree_revault_without_agreement", method_ref=vaulted.method_ref)
        raise PayPalVaultRefused(
            "PayPal gave no billing agreement: the customer must approve PayPal"
        )

    def delete_method(self, method_ref: str) -> None:
        sdk = self._client.sdk
        try:
            self._client.guard.read("method delete", lambda: sdk.payment_method.delete(method_ref))
        except NotFoundError:
            log.info("braintree_method_already_gone", method_ref=method_ref)

    def make_default(self, method_ref: str) -> None:
        sdk = self._client.sdk
        params = {"options": {"make_default": True}}
        try:
            result = self._client.guard.read(
                "method default", lambda: sdk.payment_method.update(method_ref, params)
            )
        except NotFoundError:
            raise PayPalMethodNotFound(method_ref) from None
        if not result.is_success:
            raise PayPalVaultRefused(result.message, tuple(_codes(result)))

    def client_token(self, customer_id: str | None = None) -> str:
        sdk = self._client.sdk
        params = {"customer_id": customer_id} if customer_id else {}
        try:
            token = self._client.guard.read(
                "client token", lambda: sdk.client_token.generate(dict(params))
            )
        except ValueError:  # the SDK's way of saying api-error-response here
            raise PayPalCustomerNotFound(customer_id) from None
        return str(token)


def _vaulted(method: Any) -> VaultedPayPal:
    return VaultedPayPal(
        method_ref=str(method.token),
        customer_id=str(method.customer_id),
        billing_agreement_id=getattr(method, "billing_agreement_id", None) or None,
        payer_email=getattr(method, "email", None) or None,
        is_default=bool(getattr(method, "default", False)),
        revoked=getattr(method, "revoked_at", None) is not None,
    )


def _codes(result: Any) -> list[str]:
    return [str(e.code) for e in result.errors.deep_errors]
