"""commands.ports.PaymentGateway for processor BRAINTREE (PayPal), over the official SDK:
BraintreeSales.

Braintree has no idempotency key for sales, so the attempt id travels as the sale's
`order_id` and the gateway itself makes charging idempotent: before a sale it searches for
a sale with that order id and returns its outcome instead of charging again; when a sale
gets no answer it looks the order id up instead of sending the sale again, and still
raises ProcessorUnavailable when it finds nothing (Braintree's search index can lag
behind a sale by seconds, so "not found" right after a lost answer proves nothing). Refunds
work the same way with the refund id as the credit's order id.
"""

from __future__ import annotations

from typing import Any

import braintree
import structlog
from braintree.exceptions import NotFoundError

from adapters.braintree.amounts import from_braintree_amount, to_braintree_amount
from adapters.braintree.client import BraintreePort
from adapters.braintree.declines import (
    gateway_rejection,
    processor_decline,
    validation_decline,
)
from commands.paypal_ports import RefundRefused
from commands.ports import (
    AmountNotRepresentable,
    ChargeRequest,
    ChargeResult,
    CurrencyNotSupportedByProcessor,
    ProcessorRefused,
    ProcessorUnavailable,
    RefundRequest,
)
from ledger.payments import Processor

log = structlog.get_logger("braintree")

CURRENCY_NOT_SUPPORTED = "currency_not_supported"
# statuses of a sale that took the money (voided: only our own full refund voids a sale)
CHARGED = frozenset(
    {
        "authorized",
        "authorizing",
        "submitted_for_settlement",
        "settlement_pending",
        "settling",
        "settled",
        "settlement_confirmed",
        "voided",
    }
)
UNSETTLED = frozenset({"authorized", "submitted_for_settlement", "settlement_pending"})
CANNOT_REFUND_UNLESS_SETTLED = "91506"


class BraintreeSales(BraintreePort):
    def charge(self, request: ChargeRequest) -> ChargeResult:
        _require_braintree(request.processor)
        try:
            merchant_account = self._client.config.merchant_account_for(request.amount.currency)
        except LookupError:
            log.error("braintree_currency_not_configured", currency=request.amount.currency)
            return ChargeResult(succeeded=False, decline_code=CURRENCY_NOT_SUPPORTED)
        try:
            amount = to_braintree_amount(request.amount)
        except (AmountNotRepresentable, CurrencyNotSupportedByProcessor) as refused:
            log.warning(
                "braintree_amount_refused", attempt_id=request.attempt_id, code=refused.code
            )
            return ChargeResult(succeeded=False, decline_code=refused.code)
        earlier = self.find_charge(request.attempt_id, request.processor)
        if earlier is not None:
            log.info("braintree_sale_already_made", attempt_id=request.attempt_id)
            return earlier
        params: dict[str, Any] = {
            "amount": amount,
            "payment_method_token": request.method_ref,
            "order_id": request.attempt_id,
            "options": {"submit_for_settlement": True},
        }
        if merchant_account is not None:
            params["merchant_account_id"] = merchant_account
        if request.customer_ref:  # Braintree refuses a token of another customer (91516)
            params["customer_id"] = request.customer_ref
        sdk = self._client.sdk
        try:
            result = self._client.guard.once("sale", lambda: sdk.transaction.sale(params))
        except ProcessorUnavailable:
            return self._after_lost_sale(request)
        return self._charged(request, result)

    def _after_lost_sale(self, request: ChargeRequest) -> ChargeResult:
        """The sale got no answer: it may or may not have been made. Look, never resend."""
        found = self.find_charge(request.attempt_id, request.processor)
        if found is None:
            raise ProcessorUnavailable("Braintree sale: no answer, and no sale found yet")
        return found

    def _charged(self, request: ChargeRequest, result: Any) -> ChargeResult:
        transaction = result.transaction
        if transaction is None:  # refused by validation: nothing was charged
            codes = [e.code for e in result.errors.deep_errors]
            log.warning("braintree_sale_invalid", attempt_id=request.attempt_id, codes=codes)
            return ChargeResult(succeeded=False, decline_code=validation_decline(codes))
        outcome = _outcome(transaction)
        if outcome.succeeded:
            charged = from_braintree_amount(transaction.amount, transaction.currency_iso_code)
            if charged != request.amount:
                log.error(
                    "braintree_charged_other_amount",
                    attempt_id=request.attempt_id,
                    transaction_id=transaction.id,
                )
        return outcome

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        _require_braintree(processor)
        sales = [t for t in self._by_order_id(attempt_id) if t.type == "sale"]
        if not sales:
            return None
        charged = [t for t in sales if t.status in CHARGED]
        if charged:
            return _outcome(charged[0])
        return _outcome(max(sales, key=lambda t: t.created_at))

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        """A PayPal sale never waits for customer action (this gateway never answers
        `requires_action`), so there is never one to cancel: refused, nothing is sent."""
        _require_braintree(processor)
        raise ProcessorRefused("Braintree payments never wait for customer action")

    def refund(self, request: RefundRequest) -> str:
        _require_braintree(request.processor)
        amount = to_braintree_amount(request.amount)  # refused before anything is asked
        earlier = self._earlier_refund(request)
        if earlier is not None:
            return earlier
        options = {
            "amount": amount,
            "order_id": request.refund_id,
        }
        sdk = self._client.sdk
        payment_id = request.processor_payment_id
        try:
            result = self._client.guard.once(
                "refund", lambda: sdk.transaction.refund(payment_id, options)
            )
        except NotFoundError:
            raise RefundRefused(f"Braintree has no transaction {payment_id}") from None
        except ProcessorUnavailable:
            if (found := self._earlier_refund(request)) is not None:
                return found
            raise
        if result.is_success:
            return str(result.transaction.id)
        codes = [e.code for e in result.errors.deep_errors]
        if CANNOT_REFUND_UNLESS_SETTLED in codes:
            return self._void(request)
        log.warning("braintree_refund_refused", refund_id=request.refund_id, codes=codes)
        raise RefundRefused(result.message)

    def _earlier_refund(self, request: RefundRequest) -> str | None:
        """A refund made before with this refund id (the credit's order id), or the void
        that reversed the whole sale."""
        for t in self._by_order_id(request.refund_id):
            if t.type == "credit" and t.refunded_transaction_id == request.processor_payment_id:
                return str(t.id)
        return None

    def _void(self, request: RefundRequest) -> str:
        """Braintree refunds only settled sales; an unsettled one is voided instead, which
        reverses all of it. A partial refund has to wait for settlement."""
        sdk = self._client.sdk
        payment_id = request.processor_payment_id
        sale = self._client.guard.read("find", lambda: sdk.transaction.find(payment_id))
        whole = from_braintree_amount(sale.amount, sale.currency_iso_code)
        if whole != request.amount:
            raise RefundRefused("a partial refund waits until Braintree has settled the sale")
        if sale.status == "voided":
            return str(sale.id)
        if sale.status not in UNSETTLED:
            raise RefundRefused(f"Braintree cannot reverse a {sale.status} sale")
        result = self._client.guard.read("void", lambda: sdk.transaction.void(payment_id))
        if not result.is_success:
            again = self._client.guard.read("find", lambda: sdk.transaction.find(payment_id))
            if again.status != "voided":
                raise RefundRefused(result.message)
        log.info("braintree_sale_voided", refund_id=request.refund_id, transaction_id=payment_id)
        return str(sale.id)

    def _by_order_id(self, order_id: str) -> list[Any]:
        sdk = self._client.sdk

        def search() -> list[Any]:
            found = sdk.transaction.search(braintree.TransactionSearch.order_id == order_id)
            return list(found.items)

        return self._client.guard.read("search", search)


def _outcome(transaction: Any) -> ChargeResult:
    status = transaction.status
    if status in CHARGED:
        return ChargeResult(succeeded=True, processor_payment_id=str(transaction.id))
    if status == "gateway_rejected":
        code = gateway_rejection(transaction.gateway_rejection_reason)
    else:
        code = processor_decline(
            transaction.processor_response_code,
            getattr(transaction, "processor_response_type", None),
        )
    return ChargeResult(
        succeeded=False, processor_payment_id=str(transaction.id), decline_code=code
    )


def _require_braintree(processor: Processor) -> None:
    if processor is not Processor.BRAINTREE:
        raise ValueError(f"the Braintree gateway does not charge through {processor}")
