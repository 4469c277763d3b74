"""Stripe's objects read back for the webhooks: plain dicts in the shape of the objects
inside Stripe's events, so a webhook treats an object it read back exactly like one it was
sent. None: Stripe does not know the id."""

from __future__ import annotations

from typing import Any

from adapters.stripe.connection import PAGE_SIZE, StripePort, data_of


class StripeObjects(StripePort):
    def payment_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        return self._stripe.read(
            "retrieve_payment_intent",
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id),
        )

    def charge_object(self, charge_id: str) -> dict[str, Any] | None:
        return self._stripe.read(
            "retrieve_charge", lambda: self._client.v1.charges.retrieve(charge_id)
        )

    def refunds_of(self, payment_intent_id: str) -> list[dict[str, Any]]:
        """Every refund of the PaymentIntent (all pages)."""

        def refunds() -> list[dict[str, Any]]:
            found = self._client.v1.refunds.list(
                {"payment_intent": payment_intent_id, "limit": PAGE_SIZE}
            )
            return [data_of(r) for r in found.auto_paging_iter()]

        return self.guard.retried("list_refunds", refunds)
