"""Simulated Braintree customers and PayPal accounts (the PayPalVault port), answering
Braintree's sandbox test nonces: `fake-paypal-billing-agreement-nonce` vaults a billing
agreement (chargeable off-session), `fake-paypal-future-nonce` the legacy future-payments
path (no agreement: the token migration's case); any other nonce is refused."""

from __future__ import annotations

from adapters.simulated.store import Row, SimulatedStore, never_a_card_number, sim_ref
from commands.paypal_ports import (
    PayPalCustomer,
    PayPalCustomerNotFound,
    PayPalMethodNotFound,
    PayPalVaultRefused,
    VaultedPayPal,
)

BRAINTREE = "braintree"
BILLING_AGREEMENT_NONCE = "fake-paypal-billing-agreement-nonce"
FUTURE_PAYMENTS_NONCE = "fake-paypal-future-nonce"
PAYPAL_NONCES = (BILLING_AGREEMENT_NONCE, FUTURE_PAYMENTS_NONCE)


def _agreement(method_ref: str) -> str:
    return "B-SIM" + never_a_card_number(sim_ref("", method_ref)[4:20]).upper()


class SimulatedPayPal:
    def __init__(self, store: SimulatedStore) -> None:
        self._store = store

    def create_customer(self, account_id: str, name: str | None, email: str | None) -> str:
        customer_id = account_id  # as the Braintree adapter: the id is the account id
        return self._store.ensure_customer(BRAINTREE, account_id, customer_id, name, email)

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        self._customer(customer_id)
        self._store.update_customer(customer_id, name, email)

    def find_customer(self, customer_id: str) -> PayPalCustomer | None:
        row = self._store.customer(customer_id)
        if row is None or row["processor"] != BRAINTREE:
            return None
        refs = tuple(m["method_ref"] for m in self._store.methods_of(customer_id, "paypal"))
        return PayPalCustomer(customer_id, row["name"], row["email"], row["default_method"], refs)

    def vault_nonce(
        self, customer_id: str, nonce: str, *, method_ref: str, make_default: bool = False
    ) -> VaultedPayPal:
        row = self._customer(customer_id)
        if (done := self.find_method(method_ref)) is not None:
            return done
        if nonce not in PAYPAL_NONCES:
            raise PayPalVaultRefused("Unknown or expired payment_method_nonce.", ("91565",))
        agreement = _agreement(method_ref) if nonce == BILLING_AGREEMENT_NONCE else None
        self._store.add_method(
            method_ref,
            customer_id,
            "paypal",
            billing_agreement_id=agreement,
            payer_email=row["email"],
        )
        if make_default:
            self._store.set_default(customer_id, method_ref)
        return self._found(method_ref)

    def find_method(self, method_ref: str) -> VaultedPayPal | None:
        row = self._store.method(method_ref)
        if row is None or row["kind"] != "paypal" or row["detached"]:
            return None
        customer = self._customer(row["customer_id"])
        return VaultedPayPal(
            method_ref,
            row["customer_id"],
            row["billing_agreement_id"],
            row["payer_email"],
            customer["default_method"] == method_ref,
        )

    def revault_as_billing_agreement(
        self, customer_id: str, old_ref: str, *, new_ref: str, make_default: bool = False
    ) -> VaultedPayPal:
        done = self.find_method(new_ref)
        if done is not None and done.customer_id == customer_id:
            return done
        old = self.find_method(old_ref)
        if old is None or old.customer_id != customer_id:
            raise PayPalMethodNotFound(old_ref)
        self._store.add_method(
            new_ref,
            customer_id,
            "paypal",
            billing_agreement_id=_agreement(new_ref),
            payer_email=old.payer_email,
        )
        if make_default:
            self._store.set_default(customer_id, new_ref)
        return self._found(new_ref)

    def delete_method(self, method_ref: str) -> None:
        self._store.detach(method_ref)

    def make_default(self, method_ref: str) -> None:
        found = self.find_method(method_ref)
        if found is None:
            raise PayPalMethodNotFound(method_ref)
        self._store.set_default(found.customer_id, method_ref)

    def client_token(self, customer_id: str | None = None) -> str:
        if customer_id is not None:
            self._customer(customer_id)
        return f"sim_client_token_{customer_id or 'guest'}"

    def _found(self, method_ref: str) -> VaultedPayPal:
        found = self.find_method(method_ref)
        if found is None:
            raise PayPalMethodNotFound(method_ref)
        return found

    def _customer(self, customer_id: str) -> Row:
        row = self._store.customer(customer_id)
        if row is None or row["processor"] != BRAINTREE:
            raise PayPalCustomerNotFound(customer_id)
        return row
