"""Stripe as a PaymentLookup (reconciliation): a PaymentIntent as Stripe holds it now, with
its refunds and disputes."""

from __future__ import annotations

from collections.abc import Iterable

import stripe
from stripe.params import DisputeListParams

from adapters.stripe.amounts import from_stripe_amount
from adapters.stripe.connection import PAGE_SIZE, StripePort, data_of, refused
from commands.ports import DisputeState, ProcessorDispute, ProcessorPayment, ProcessorRefund

DISPUTE_STATES = {
    "needs_response": DisputeState.OPEN,
    "under_review": DisputeState.OPEN,
    "won": DisputeState.WON,
    "lost": DisputeState.LOST,
}


class StripePayments(StripePort):
    def find_payment(self, processor_payment_id: str) -> ProcessorPayment | None:
        """The PaymentIntent, its refunds (those made or pending) and, unless disputes are
        not asked (`disputes=False`: localstripe has no Disputes API), its disputes."""
        try:
            intent = self.guard.retried(
                "find_payment",
                lambda: self._client.v1.payment_intents.retrieve(processor_payment_id),
            )
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise refused("payment lookup", error) from error
        try:
            refunds = self.guard.retried("list_refunds", lambda: self._refunds_of(intent))
        except stripe.InvalidRequestError as error:
            raise refused("refund lookup", error) from error
        data = data_of(intent)
        captured = data.get("amount_received") or data.get("amount") or 0
        currency = str(data.get("currency", "")).upper()
        disputes = self._disputes_of(intent) if self._stripe.disputes else None
        amount = from_stripe_amount(int(captured), currency).amount
        return ProcessorPayment(intent.id, amount, currency, refunds, disputes)

    def _disputes_of(self, intent: stripe.PaymentIntent) -> tuple[ProcessorDispute, ...]:
        """ProcessorRefused when Stripe refuses the listing. A server without the Disputes
        API (localstripe answers a bare 404) is ProcessorUnavailable, an error of every
        check: set LEDGER_STRIPE_DISPUTES=false for it."""

        def listed() -> tuple[ProcessorDispute, ...]:
            params: DisputeListParams = {"payment_intent": intent.id, "limit": PAGE_SIZE}
            pages = self._client.v1.disputes.list(params).auto_paging_iter()
            return disputes_of(pages, str(data_of(intent)["currency"]))

        try:
            return self.guard.retried("list_disputes", listed)
        except stripe.InvalidRequestError as error:
            raise refused("dispute lookup", error) from error

    def _refunds_of(self, intent: stripe.PaymentIntent) -> tuple[ProcessorRefund, ...]:
        if intent.status != "succeeded":
            return ()
        found = self._client.v1.refunds.list({"payment_intent": intent.id, "limit": PAGE_SIZE})
        currency = str(data_of(intent)["currency"])  # a refund is in its payment's currency
        made = []
        for refund in found.auto_paging_iter():
            data = data_of(refund)
            if data.get("status") in ("failed", "canceled"):
                continue
            ours = (data.get("metadata") or {}).get("refund_id")
            amount = from_stripe_amount(int(data.get("amount") or 0), currency)
            made.append(ProcessorRefund(refund.id, ours, amount.amount))
        return tuple(made)


def disputes_of(disputes: Iterable[stripe.Dispute], currency: str) -> tuple[ProcessorDispute, ...]:
    """Stripe's disputes as the ledger holds them: chargebacks only, as the dispute webhooks
    record them (adapters/webhooks/stripe_disputes.py). Inquiries (`warning_*`) withdraw no
    funds; `prevented` and the legacy `charge_refunded` never became a chargeback. Amounts
    are in the ledger's minor units of `currency`, the payment's (a dispute is in its
    payment's currency)."""
    found = []
    for dispute in disputes:
        data = data_of(dispute)
        state = DISPUTE_STATES.get(str(data.get("status")))
        if state is not None:
            amount = from_stripe_amount(int(data.get("amount") or 0), currency)
            found.append(ProcessorDispute(dispute.id, state, amount.amount))
    return tuple(found)
