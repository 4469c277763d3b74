"""commands.ports.PaymentLookup for processor BRAINTREE (reconciliation): a sale with its
refunds (its credits, and the void that reversed an unsettled sale whole) and its disputes."""

from __future__ import annotations

from typing import Any

import braintree
import structlog
from braintree.exceptions import NotFoundError

from adapters.braintree.amounts import from_braintree_amount
from adapters.braintree.client import BraintreePort
from adapters.braintree.sales import CHARGED
from commands.ports import DisputeState, ProcessorDispute, ProcessorPayment, ProcessorRefund

log = structlog.get_logger("braintree")

# a credit that refunds, or will (a voided or failed credit refunded nothing)
REFUNDING = CHARGED - {"voided"}
# braintree.Dispute.Status -> the ledger's view. Accepted (by us) and expired (no answer
# by the deadline) are lost chargebacks; "disputed" is the merchant's answer under review.
DISPUTE_STATES = {
    braintree.Dispute.Status.Open: DisputeState.OPEN,
    braintree.Dispute.Status.Disputed: DisputeState.OPEN,
    braintree.Dispute.Status.UnderReview: DisputeState.OPEN,
    braintree.Dispute.Status.Won: DisputeState.WON,
    braintree.Dispute.Status.Lost: DisputeState.LOST,
    braintree.Dispute.Status.Accepted: DisputeState.LOST,
    braintree.Dispute.Status.AutoAccepted: DisputeState.LOST,
    braintree.Dispute.Status.Expired: DisputeState.LOST,
}


class BraintreePayments(BraintreePort):
    def find_payment(self, processor_payment_id: str) -> ProcessorPayment | None:
        """The sale, its refunds and its disputes; None when Braintree has no such sale."""
        sale = self._find(processor_payment_id)
        if sale is None or sale.type != "sale":
            return None
        currency = str(sale.currency_iso_code)
        amount = from_braintree_amount(sale.amount, currency).amount
        refund_ids = getattr(sale, "refund_ids", None) or ()
        refunds = [r for rid in refund_ids if (r := self._refund(sale, rid))]
        if sale.status == "voided":  # the ledger's full refund of an unsettled sale
            refunds.append(ProcessorRefund(str(sale.id), None, amount, voided=True))
        disputes = tuple(_dispute(d, currency) for d in getattr(sale, "disputes", None) or ())
        return ProcessorPayment(
            str(sale.id), amount, currency, tuple(refunds), tuple(d for d in disputes if d)
        )

    def _refund(self, sale: Any, refund_id: str) -> ProcessorRefund | None:
        """A credit of the sale; its order id is the ledger's refund id when the ledger made
        it (a refund made elsewhere keeps the sale's order id, the attempt id)."""
        credit = self._find(str(refund_id))
        if credit is None or credit.status not in REFUNDING:
            return None
        ours = credit.order_id if credit.order_id and credit.order_id != sale.order_id else None
        amount = from_braintree_amount(credit.amount, credit.currency_iso_code).amount
        return ProcessorRefund(str(credit.id), ours, amount)

    def _find(self, transaction_id: str) -> Any | None:
        sdk = self._client.sdk
        try:
            return self._client.guard.read("find", lambda: sdk.transaction.find(transaction_id))
        except NotFoundError:
            return None


def _dispute(dispute: Any, currency: str) -> ProcessorDispute | None:
    """None for a status this adapter does not know (never guessed as open or closed)."""
    state = DISPUTE_STATES.get(str(dispute.status))
    if state is None:
        log.warning("braintree_dispute_status_unknown", dispute=dispute.id, status=dispute.status)
        return None
    disputed = getattr(dispute, "amount_disputed", None) or dispute.amount
    currency = getattr(dispute, "currency_iso_code", None) or currency
    amount = from_braintree_amount(disputed, str(currency))
    return ProcessorDispute(str(dispute.id), state, amount.amount)
