"""An in-memory PayPal vault in the shape of the Braintree adapter's token migration:
tokens per customer, revoked accounts, outages; it counts what it vaulted."""

from __future__ import annotations

from dataclasses import dataclass, field

from commands.paypal_ports import (
    PayPalAccountRevoked,
    PayPalMethodNotFound,
    PayPalVaultRefused,
    VaultedPayPal,
)
from commands.ports import ProcessorUnavailable


@dataclass
class FakeRevaulter:
    methods: dict[str, VaultedPayPal] = field(default_factory=dict)  # token -> method
    revoked: set[str] = field(default_factory=set)
    no_agreement: set[str] = field(default_factory=set)
    down: bool = False
    vaulted: list[str] = field(default_factory=list)  # new tokens, in the order vaulted
    calls: int = 0

    def add(self, customer_id: str, token: str) -> None:
        self.methods[token] = VaultedPayPal(token, customer_id, None, "payer@example.com", True)

    def revault_as_billing_agreement(
        self, customer_id: str, old_ref: str, *, new_ref: str, make_default: bool = False
    ) -> VaultedPayPal:
        self.calls += 1
        if self.down:
            raise ProcessorUnavailable("fake Braintree is down")
        done = self.methods.get(new_ref)
        if done is not None and done.customer_id == customer_id:
            return done
        old = self.methods.get(old_ref)
        if old is None or old.customer_id != customer_id:
            raise PayPalMethodNotFound(old_ref)
        if old_ref in self.revoked:
            raise PayPalAccountRevoked(old_ref)
        if old_ref in self.no_agreement:
            raise PayPalVaultRefused("PayPal gave no billing agreement")
        agreement = f"B-{len(self.vaulted) + 1:017d}"
        new = VaultedPayPal(new_ref, customer_id, agreement, old.payer_email, make_default)
        self.methods[new_ref] = new
        self.vaulted.append(new_ref)
        return new


@dataclass
class CountingThrottle:
    waits: int = 0

    def wait(self) -> None:
        self.waits += 1
