"""Stripe as the PaymentGateway for cards: PaymentIntents (charge, find again, cancel) and
refunds.

Every charge carries the attempt id twice: as the idempotency key (Stripe deduplicates a
repeated request for 24 hours) and in the PaymentIntent's metadata, which is how
`find_charge` finds it again whatever happened to the response. Refunds carry the refund id
the same way.
"""

from __future__ import annotations

import stripe
import structlog
from stripe.params import PaymentIntentCreateParams, RefundCreateParams

from adapters.stripe.amounts import to_stripe_amount
from adapters.stripe.connection import (
    PAGE_SIZE,
    StripePort,
    data_of,
    error_body,
    refused,
    require_stripe,
    with_metadata,
)
from adapters.stripe.declines import (
    AUTHENTICATION_REQUIRED,
    CANCELED,
    decline_of,
    ledger_decline_code,
)
from commands.ports import (
    AmountNotRepresentable,
    ChargeRequest,
    ChargeResult,
    CurrencyNotSupportedByProcessor,
    ProcessorUnavailable,
    RefundRequest,
)
from ledger.payments import Processor

log = structlog.get_logger(__name__)
# PaymentIntent statuses whose outcome is not known yet: the charge may still succeed.
UNSETTLED = frozenset({"processing", "requires_confirmation", "requires_capture"})


class StripeCharges(StripePort):
    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm a PaymentIntent: off-session (the customer is away, Stripe
        applies the exemptions a saved card allows) unless the customer is present.

        An amount or currency Stripe cannot take exactly is declined with the refusal's
        code (`amount_not_representable`, `currency_not_supported_by_processor`) before
        anything is sent: nothing can have been charged."""
        require_stripe(request.processor)
        try:
            amount = to_stripe_amount(request.amount)
        except (AmountNotRepresentable, CurrencyNotSupportedByProcessor) as refusal:
            log.warning("stripe_amount_refused", attempt_id=request.attempt_id, code=refusal.code)
            return ChargeResult(succeeded=False, decline_code=refusal.code)
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": request.amount.currency.lower(),
            "payment_method": request.method_ref,
            "confirm": True,
            "metadata": _charge_metadata(request),
        }
        if request.customer_ref:
            params["customer"] = request.customer_ref
        if not request.on_session:
            params["off_session"] = True
        try:
            intent = self.guard.once(
                "charge",
                lambda: self._client.v1.payment_intents.create(
                    params, {"idempotency_key": request.attempt_id}
                ),
            )
        except stripe.CardError as error:
            return _declined(error)
        except stripe.InvalidRequestError as error:
            return _rejected(error, request.attempt_id)
        except ProcessorUnavailable:
            # The charge may or may not have happened: never send it again, ask instead.
            found = self._find_after_unknown(request.attempt_id)
            if found is None:
                raise
            return found
        return _result_of(intent)

    def refund(self, request: RefundRequest) -> str:
        """Refund part or all of a PaymentIntent. A refund already made for this refund id
        (found by its metadata) is returned instead of being made again. Raises
        AmountNotRepresentable / CurrencyNotSupportedByProcessor, before asking Stripe
        anything, for an amount Stripe cannot take exactly."""
        require_stripe(request.processor)
        amount = to_stripe_amount(request.amount)
        if existing := self._find_refund(request):
            return existing
        params: RefundCreateParams = {
            "payment_intent": request.processor_payment_id,
            "amount": amount,
            "metadata": {"refund_id": request.refund_id},
        }
        try:
            refund = self.guard.once(
                "refund",
                lambda: self._client.v1.refunds.create(
                    params, {"idempotency_key": request.refund_id}
                ),
            )
        except (stripe.CardError, stripe.InvalidRequestError) as error:
            raise refused("refund", error) from error
        except ProcessorUnavailable:
            if found := self._find_refund(request, quietly=True):
                return found
            raise
        return refund.id

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        """The outcome of the PaymentIntent made for this attempt, None when Stripe never
        saw one. Raises ProcessorUnavailable when Stripe cannot be asked, or when the
        payment is still in progress (its outcome is not known yet).

        With lookup="search", a PaymentIntent created in the last minute or so may not be
        indexed yet: ask only about attempts older than that before trusting a None."""
        require_stripe(processor)
        intents = self.guard.retried("find_charge", lambda: self._stripe.intents_for(attempt_id))
        if not intents:
            return None
        # Stripe deduplicates by idempotency key for 24 hours only, and localstripe not at
        # all: if there are several, one that succeeded decides.
        settled = [i for i in intents if i.status not in UNSETTLED]
        succeeded = [i for i in settled if i.status == "succeeded"]
        if succeeded:
            return _result_of(succeeded[0])
        if len(settled) < len(intents):
            raise ProcessorUnavailable("the payment is still being processed")
        return _result_of(max(settled, key=lambda i: i.created))

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        """`payment_intents.cancel` (retried: cancelling twice is harmless), then the intent
        as it now stands. Stripe refuses to cancel an intent that succeeded or is already
        cancelled: then the intent is read back, so a repeat (or a payment authenticated
        at the last moment) answers its real outcome. No `cancellation_reason` is sent:
        localstripe refuses every parameter there."""
        require_stripe(processor)
        try:
            intent = self.guard.retried(
                "cancel_charge",
                lambda: self._client.v1.payment_intents.cancel(
                    processor_payment_id, options={"idempotency_key": f"cancel:{attempt_id}"}
                ),
            )
        except stripe.InvalidRequestError as error:
            log.info("stripe_cancel_refused", attempt_id=attempt_id, code=error.code)
            intent = self.guard.retried(
                "retrieve_payment_intent",
                lambda: self._client.v1.payment_intents.retrieve(processor_payment_id),
            )
        return _result_of(intent)

    def _find_refund(self, request: RefundRequest, *, quietly: bool = False) -> str | None:
        def find() -> str | None:
            refunds = self._client.v1.refunds.list(
                {"payment_intent": request.processor_payment_id, "limit": PAGE_SIZE}
            ).auto_paging_iter()
            return next(
                (r.id for r in with_metadata(refunds, "refund_id", request.refund_id)), None
            )

        if quietly:
            return self._stripe.find_quietly(find)
        return self.guard.retried("find_refund", find)

    def _find_after_unknown(self, attempt_id: str) -> ChargeResult | None:
        try:
            return self.find_charge(attempt_id, Processor.STRIPE)
        except ProcessorUnavailable:
            return None


def _declined(error: stripe.CardError) -> ChargeResult:
    """A 402: the card was declined, or (off-session) needs the customer to authenticate.
    Real Stripe returns the PaymentIntent in the error; localstripe only the charge."""
    body = error_body(error)
    intent = body.get("payment_intent") or {}
    code = decline_of(body)
    needs_action = code == AUTHENTICATION_REQUIRED and bool(intent.get("client_secret"))
    return ChargeResult(
        succeeded=False,
        processor_payment_id=intent.get("id"),
        decline_code=code,
        requires_action=needs_action,
        client_secret=intent.get("client_secret") if needs_action else None,
    )


def _rejected(error: stripe.InvalidRequestError, attempt_id: str) -> ChargeResult:
    """A 400/404 answer to a charge: nothing was charged. A missing payment method or
    customer is a hard decline of that method; anything else is recorded as a soft
    `invalid_request` (and logged: it is more likely our bug than the customer's), except a
    currency this Stripe account does not present in, `currency_not_supported_by_processor`."""
    code = error.code or ""
    if error.http_status == 404 or code in {"resource_missing", "payment_method_unactivated"}:
        return ChargeResult(succeeded=False, decline_code=ledger_decline_code("resource_missing"))
    if error.param == "currency":
        return ChargeResult(succeeded=False, decline_code=CurrencyNotSupportedByProcessor.code)
    log.error(
        "stripe_charge_rejected",
        attempt_id=attempt_id,
        code=code,
        param=error.param,
        request_id=error.request_id,
    )
    return ChargeResult(succeeded=False, decline_code="invalid_request")


def _result_of(intent: stripe.PaymentIntent) -> ChargeResult:
    status = intent.status
    if status == "succeeded":
        return ChargeResult(succeeded=True, processor_payment_id=intent.id)
    if status == "requires_action":
        return ChargeResult(
            succeeded=False,
            processor_payment_id=intent.id,
            decline_code=AUTHENTICATION_REQUIRED,
            requires_action=True,
            client_secret=intent.client_secret,
        )
    if status == "requires_payment_method":
        error = data_of(intent).get("last_payment_error")
        return ChargeResult(
            succeeded=False, processor_payment_id=intent.id, decline_code=decline_of(error)
        )
    if status == "canceled":
        return ChargeResult(succeeded=False, processor_payment_id=intent.id, decline_code=CANCELED)
    raise ProcessorUnavailable(f"the payment is still in progress ({status})")


def _charge_metadata(request: ChargeRequest) -> dict[str, str]:
    """The attempt id (found again by it) and the account (webhooks route by it)."""
    metadata = {"attempt_id": request.attempt_id}
    if request.account_id is not None:
        metadata["account_id"] = str(request.account_id)
    return metadata
