"""Stripe as a CardVault: SetupIntents, attaching and detaching cards, the default card."""

from __future__ import annotations

import stripe
import structlog

from adapters.stripe.connection import (
    PAGE_SIZE,
    StripePort,
    data_of,
    error_body,
    id_of,
    refused,
    refused_for_customer,
)
from adapters.stripe.declines import decline_of, ledger_decline_code
from commands.ports import CardSetup, MethodDeclined, ProcessorUnavailable, VaultedCard

log = structlog.get_logger(__name__)


class StripeCards(StripePort):
    def start_card_setup(self, customer_id: str, setup_id: str) -> CardSetup:
        """A SetupIntent for saving a card for later off-session charges. An unconfirmed
        SetupIntent moves no money, so a duplicate left by a timeout is harmless."""
        intent = self.guard.once(
            "start_card_setup",
            lambda: self._client.v1.setup_intents.create(
                {
                    "customer": customer_id,
                    "usage": "off_session",
                    "metadata": {"setup_id": setup_id},
                },
                {"idempotency_key": f"setup:{setup_id}"},
            ),
        )
        if not intent.client_secret:
            raise ProcessorUnavailable("Stripe returned a SetupIntent without a client secret")
        return CardSetup(intent.id, intent.client_secret, intent.status)

    def confirmed_card(self, setup_id: str) -> str | None:
        try:
            intent = self.guard.retried(
                "setup_retrieve", lambda: self._client.v1.setup_intents.retrieve(setup_id)
            )
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise refused("setup lookup", error) from error
        if intent.status != "succeeded":
            return None
        return id_of(data_of(intent).get("payment_method"))

    def attach_card(self, customer_id: str, method_ref: str) -> VaultedCard:
        try:
            method = self.guard.retried(
                "attach_card",
                lambda: self._client.v1.payment_methods.attach(
                    method_ref, {"customer": customer_id}
                ),
            )
        except stripe.CardError as error:
            raise MethodDeclined("the card was declined", decline_of(error_body(error))) from error
        except stripe.InvalidRequestError as error:
            raise MethodDeclined(
                "Stripe refused to attach this payment method",
                ledger_decline_code(error.code or "invalid_request"),
            ) from error
        data = data_of(method)
        card = data.get("card") or {}
        return VaultedCard(
            method_ref=method.id,
            customer_ref=id_of(data.get("customer")),
            brand=str(card.get("brand", "unknown")),
            last4=str(card.get("last4", "")),
            exp_month=int(card.get("exp_month", 0)),
            exp_year=int(card.get("exp_year", 0)),
        )

    def detach_card(self, method_ref: str) -> None:
        """Idempotent: a card already detached (or unknown to Stripe) is left as it is."""
        try:
            self.guard.retried(
                "detach_card", lambda: self._client.v1.payment_methods.detach(method_ref)
            )
        except stripe.InvalidRequestError as error:
            log.info("stripe_detach_ignored", method_ref=method_ref, code=error.code)

    def set_default_card(self, customer_id: str, method_ref: str) -> None:
        try:
            self.guard.retried(
                "set_default_card",
                lambda: self._client.v1.customers.update(
                    customer_id, {"invoice_settings": {"default_payment_method": method_ref}}
                ),
            )
        except stripe.InvalidRequestError as error:
            raise refused_for_customer("customer update", error, customer_id) from error

    def list_cards(self, customer_id: str) -> tuple[str, ...]:
        def cards() -> tuple[str, ...]:
            found = self._client.v1.payment_methods.list(
                {"customer": customer_id, "type": "card", "limit": PAGE_SIZE}
            )
            return tuple(m.id for m in found.auto_paging_iter())

        try:
            return self.guard.retried("list_cards", cards)
        except stripe.InvalidRequestError as error:
            raise refused_for_customer("card listing", error, customer_id) from error
