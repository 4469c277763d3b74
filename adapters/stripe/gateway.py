"""Stripe behind the ledger's ports: PaymentGateway for cards (PaymentIntents and refunds),
CustomerDirectory (customers) and CardVault (SetupIntents, attaching and detaching cards,
the default card).

Every charge carries the attempt id twice: as the idempotency key (Stripe deduplicates a
repeated request for 24 hours) and in the PaymentIntent's metadata, which is how
`find_charge` finds it again whatever happened to the response. Refunds carry the refund id
the same way, and customers the ledger account id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import stripe
import structlog
from stripe.params import (
    CustomerCreateParams,
    CustomerUpdateParams,
    DisputeListParams,
    PaymentIntentCreateParams,
    RefundCreateParams,
)

from adapters.stripe.amounts import from_stripe_amount, to_stripe_amount
from adapters.stripe.client import ChargeLookup
from adapters.stripe.declines import (
    AUTHENTICATION_REQUIRED,
    CANCELED,
    decline_of,
    ledger_decline_code,
)
from adapters.stripe.resilience import Guard
from commands.ports import (
    AmountNotRepresentable,
    CardSetup,
    ChargeRequest,
    ChargeResult,
    CurrencyNotSupportedByProcessor,
    DisputeState,
    MethodDeclined,
    ProcessorDispute,
    ProcessorPayment,
    ProcessorRefund,
    ProcessorRefused,
    ProcessorUnavailable,
    ProviderCustomer,
    ProviderCustomerNotFound,
    RefundRequest,
    VaultedCard,
)
from ledger.payments import Processor

log = structlog.get_logger(__name__)
T = TypeVar("T")
S = TypeVar("S", bound=stripe.StripeObject)
PAGE_SIZE = 100
# PaymentIntent statuses whose outcome is not known yet: the charge may still succeed.
UNSETTLED = frozenset({"processing", "requires_confirmation", "requires_capture"})
DISPUTE_STATES = {
    "needs_response": DisputeState.OPEN,
    "under_review": DisputeState.OPEN,
    "won": DisputeState.WON,
    "lost": DisputeState.LOST,
}


class StripeGateway:
    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        lookup: ChargeLookup = "search",
        disputes: bool = True,
        guard: Guard | None = None,
    ) -> None:
        self._client = client
        self._lookup = lookup
        self._disputes = disputes
        self.guard = guard or Guard("stripe")

    # --- PaymentGateway ----------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm a PaymentIntent: off-session (the customer is away, Stripe
        applies the exemptions a saved card allows) unless the customer is present.

        An amount or currency Stripe cannot take exactly is declined with the refusal's
        code (`amount_not_representable`, `currency_not_supported_by_processor`) before
        anything is sent: nothing can have been charged."""
        _require_stripe(request.processor)
        try:
            amount = to_stripe_amount(request.amount)
        except (AmountNotRepresentable, CurrencyNotSupportedByProcessor) as refused:
            log.warning("stripe_amount_refused", attempt_id=request.attempt_id, code=refused.code)
            return ChargeResult(succeeded=False, decline_code=refused.code)
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
        _require_stripe(request.processor)
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
            raise _refused("refund", error) from error
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
        _require_stripe(processor)
        intents = self.guard.retried("find_charge", lambda: self._intents_for(attempt_id))
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
        _require_stripe(processor)
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

    # --- CustomerDirectory -------------------------------------------------------------

    def create_customer(self, account_id: str, name: str, email: str) -> str:
        if existing := self.guard.retried("find_customer", lambda: self._customer_for(account_id)):
            return existing.id
        params: CustomerCreateParams = {
            "name": name,
            "email": email,
            "metadata": {"account_id": account_id},
        }
        try:
            customer = self.guard.once(
                "create_customer",
                lambda: self._client.v1.customers.create(
                    params, {"idempotency_key": f"customer:{account_id}"}
                ),
            )
        except ProcessorUnavailable:
            found = self._find_quietly(lambda: self._customer_for(account_id))
            if found is None:
                raise
            return found.id
        return customer.id

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        params: CustomerUpdateParams = {}
        if name is not None:
            params["name"] = name
        if email is not None:
            params["email"] = email
        if not params:
            return
        try:
            self.guard.retried(
                "update_customer", lambda: self._client.v1.customers.update(customer_id, params)
            )
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise ProviderCustomerNotFound(f"no Stripe customer {customer_id}") from error
            raise _refused("customer update", error) from error

    def get_customer(self, customer_id: str) -> ProviderCustomer | None:
        try:
            customer = self.guard.retried(
                "get_customer", lambda: self._client.v1.customers.retrieve(customer_id)
            )
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise
        data = _data(customer)
        if data.get("deleted"):
            return None
        default = (data.get("invoice_settings") or {}).get("default_payment_method")
        return ProviderCustomer(
            customer_id=customer.id,
            account_id=(data.get("metadata") or {}).get("account_id"),
            name=data.get("name"),
            email=data.get("email"),
            default_method_ref=_id_of(default),
        )

    # --- CardVault ---------------------------------------------------------------------

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
            raise _refused("setup lookup", error) from error
        if intent.status != "succeeded":
            return None
        return _id_of(_data(intent).get("payment_method"))

    def attach_card(self, customer_id: str, method_ref: str) -> VaultedCard:
        try:
            method = self.guard.retried(
                "attach_card",
                lambda: self._client.v1.payment_methods.attach(
                    method_ref, {"customer": customer_id}
                ),
            )
        except stripe.CardError as error:
            raise MethodDeclined("the card was declined", _error_code(error)) from error
        except stripe.InvalidRequestError as error:
            raise MethodDeclined(
                "Stripe refused to attach this payment method",
                ledger_decline_code(error.code or "invalid_request"),
            ) from error
        data = _data(method)
        card = data.get("card") or {}
        return VaultedCard(
            method_ref=method.id,
            customer_ref=_id_of(data.get("customer")),
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
            if error.http_status == 404:
                raise ProviderCustomerNotFound(f"no Stripe customer {customer_id}") from error
            raise _refused("customer update", error) from error

    # --- reads for webhooks ----------------------------------------------------------------
    # Plain dicts in the shape of the objects inside Stripe's events, so a webhook treats an
    # object it read back exactly like one it was sent. None: Stripe does not know the id.

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any] | None:
        return self._read(
            "retrieve_payment_intent",
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id),
        )

    def charge_object(self, charge_id: str) -> dict[str, Any] | None:
        return self._read("retrieve_charge", lambda: self._client.v1.charges.retrieve(charge_id))

    def refunds_of(self, payment_intent_id: str) -> list[dict[str, Any]]:
        """Every refund of the PaymentIntent (all pages)."""

        def refunds() -> list[dict[str, Any]]:
            found = self._client.v1.refunds.list(
                {"payment_intent": payment_intent_id, "limit": PAGE_SIZE}
            )
            return [_data(r) for r in found.auto_paging_iter()]

        return self.guard.retried("list_refunds", refunds)

    def _read(self, operation: str, call: Callable[[], S]) -> dict[str, Any] | None:
        try:
            return _data(self.guard.retried(operation, call))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise

    def list_cards(self, customer_id: str) -> tuple[str, ...]:
        def cards() -> tuple[str, ...]:
            found = self._client.v1.payment_methods.list(
                {"customer": customer_id, "type": "card", "limit": PAGE_SIZE}
            )
            return tuple(m.id for m in found.auto_paging_iter())

        try:
            return self.guard.retried("list_cards", cards)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise ProviderCustomerNotFound(f"no Stripe customer {customer_id}") from error
            raise _refused("card listing", error) from error

    # --- PaymentLookup -------------------------------------------------------------------

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
            raise _refused("payment lookup", error) from error
        try:
            refunds = self.guard.retried("list_refunds", lambda: self._refunds_of(intent))
        except stripe.InvalidRequestError as error:
            raise _refused("refund lookup", error) from error
        data = _data(intent)
        captured = data.get("amount_received") or data.get("amount") or 0
        currency = str(data.get("currency", "")).upper()
        disputes = self._disputes_of(intent) if self._disputes else None
        amount = from_stripe_amount(int(captured), currency).amount
        return ProcessorPayment(intent.id, amount, currency, refunds, disputes)

    def _disputes_of(self, intent: stripe.PaymentIntent) -> tuple[ProcessorDispute, ...]:
        """ProcessorRefused when Stripe refuses the listing. A server without the Disputes
        API (localstripe answers a bare 404) is ProcessorUnavailable, an error of every
        check: set LEDGER_STRIPE_DISPUTES=false for it."""

        def listed() -> tuple[ProcessorDispute, ...]:
            params: DisputeListParams = {"payment_intent": intent.id, "limit": PAGE_SIZE}
            pages = self._client.v1.disputes.list(params).auto_paging_iter()
            return disputes_of(pages, str(_data(intent)["currency"]))

        try:
            return self.guard.retried("list_disputes", listed)
        except stripe.InvalidRequestError as error:
            raise _refused("dispute lookup", error) from error

    def _refunds_of(self, intent: stripe.PaymentIntent) -> tuple[ProcessorRefund, ...]:
        if intent.status != "succeeded":
            return ()
        found = self._client.v1.refunds.list({"payment_intent": intent.id, "limit": PAGE_SIZE})
        currency = str(_data(intent)["currency"])  # a refund is in its payment's currency
        made = []
        for refund in found.auto_paging_iter():
            data = _data(refund)
            if data.get("status") in ("failed", "canceled"):
                continue
            ours = (data.get("metadata") or {}).get("refund_id")
            amount = from_stripe_amount(int(data.get("amount") or 0), currency)
            made.append(ProcessorRefund(refund.id, ours, amount.amount))
        return tuple(made)

    # --- lookups -------------------------------------------------------------------------

    def _intents_for(self, attempt_id: str) -> list[stripe.PaymentIntent]:
        if self._lookup == "search":
            query = f"metadata['attempt_id']:'{_quoted(attempt_id)}'"
            found = self._client.v1.payment_intents.search({"query": query, "limit": PAGE_SIZE})
            return list(found.auto_paging_iter())
        pages = self._client.v1.payment_intents.list({"limit": PAGE_SIZE}).auto_paging_iter()
        return list(_with_metadata(pages, "attempt_id", attempt_id))

    def _customer_for(self, account_id: str) -> stripe.Customer | None:
        if self._lookup == "search":
            query = f"metadata['account_id']:'{_quoted(account_id)}'"
            found = self._client.v1.customers.search({"query": query, "limit": 10})
            matches = list(found.auto_paging_iter())
        else:
            pages = self._client.v1.customers.list({"limit": PAGE_SIZE}).auto_paging_iter()
            matches = list(_with_metadata(pages, "account_id", account_id))
        return min(matches, key=lambda c: c.created) if matches else None

    def _find_refund(self, request: RefundRequest, *, quietly: bool = False) -> str | None:
        def find() -> str | None:
            refunds = self._client.v1.refunds.list(
                {"payment_intent": request.processor_payment_id, "limit": PAGE_SIZE}
            ).auto_paging_iter()
            return next(
                (r.id for r in _with_metadata(refunds, "refund_id", request.refund_id)), None
            )

        if quietly:
            return self._find_quietly(find)
        return self.guard.retried("find_refund", find)

    def _find_after_unknown(self, attempt_id: str) -> ChargeResult | None:
        try:
            return self.find_charge(attempt_id, Processor.STRIPE)
        except ProcessorUnavailable:
            return None

    def _find_quietly(self, find: Callable[[], T | None]) -> T | None:
        """A lookup after an unknown outcome: None when it cannot be made either."""
        try:
            return self.guard.retried("lookup_after_unknown", find)
        except ProcessorUnavailable:
            return None


def disputes_of(disputes: Iterable[stripe.Dispute], currency: str) -> tuple[ProcessorDispute, ...]:
    """Stripe's disputes as the ledger holds them: chargebacks only, as the dispute webhooks
    record them (adapters/webhooks/stripe_disputes.py). Inquiries (`warning_*`) withdraw no
    funds; `prevented` and the legacy `charge_refunded` never became a chargeback. Amounts
    are in the ledger's minor units of `currency`, the payment's (a dispute is in its
    payment's currency)."""
    found = []
    for dispute in disputes:
        data = _data(dispute)
        state = DISPUTE_STATES.get(str(data.get("status")))
        if state is not None:
            amount = from_stripe_amount(int(data.get("amount") or 0), currency)
            found.append(ProcessorDispute(dispute.id, state, amount.amount))
    return tuple(found)


def _require_stripe(processor: Processor) -> None:
    if processor is not Processor.STRIPE:
        raise ValueError(f"the Stripe gateway cannot serve {processor.value}")


def _with_metadata(objects: Iterable[S], key: str, value: str) -> Iterator[S]:
    for obj in objects:
        metadata: Mapping[str, Any] = _data(obj).get("metadata") or {}
        if metadata.get(key) == value:
            yield obj


def _quoted(value: str) -> str:
    """A value inside single quotes of Stripe's search query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _data(obj: stripe.StripeObject) -> dict[str, Any]:
    """The object's fields as plain dicts (StripeObject is deliberately not a dict)."""
    return obj.to_dict()


def _id_of(value: object) -> str | None:
    """An id from a field that holds either the id or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(getattr(value, "id", value))


def _error_body(error: stripe.StripeError) -> Mapping[str, Any]:
    body = error.json_body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {"code": error.code}


def _error_code(error: stripe.StripeError) -> str:
    return decline_of(_error_body(error))


def _refused(operation: str, error: stripe.StripeError) -> ProcessorRefused:
    log.warning(
        "stripe_refused",
        operation=operation,
        code=error.code,
        http_status=error.http_status,
        request_id=error.request_id,
    )
    return ProcessorRefused(f"Stripe refused the {operation}: {error.user_message}")


def _declined(error: stripe.CardError) -> ChargeResult:
    """A 402: the card was declined, or (off-session) needs the customer to authenticate.
    Real Stripe returns the PaymentIntent in the error; localstripe only the charge."""
    body = _error_body(error)
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
        error = _data(intent).get("last_payment_error")
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
