"""One PaymentGateway for the commands, dispatching each request to its processor's adapter
by `processor`: Stripe for cards, Braintree for PayPal. A processor that is not configured
is served by NoProcessor (charges declined with `processor_not_configured`)."""

from __future__ import annotations

from adapters.braintree import BraintreeClient, BraintreeConfig
from adapters.settings import Settings
from adapters.stripe import Guard, StripeConfig, StripeConnection, make_client
from commands.base import NoProcessor
from commands.ports import ChargeRequest, ChargeResult, PaymentGateway, RefundRequest
from ledger.payments import Processor


class RoutingGateway:
    def __init__(
        self,
        stripe: PaymentGateway | None = None,
        braintree: PaymentGateway | None = None,
    ) -> None:
        self._gateways: dict[Processor, PaymentGateway] = {
            Processor.STRIPE: stripe or NoProcessor(),
            Processor.BRAINTREE: braintree or NoProcessor(),
        }

    def gateway_for(self, processor: Processor) -> PaymentGateway:
        return self._gateways[processor]

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self.gateway_for(request.processor).charge(request)

    def refund(self, request: RefundRequest) -> str:
        return self.gateway_for(request.processor).refund(request)

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        return self.gateway_for(processor).find_charge(attempt_id, processor)

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        return self.gateway_for(processor).cancel_charge(
            attempt_id, processor, processor_payment_id
        )


def stripe_connection(settings: Settings) -> StripeConnection | None:
    """The client and guard every Stripe port shares, when a key is configured; the client
    is built here, not before."""
    if settings.stripe_api_key is None:
        return None
    config = StripeConfig(
        api_key=settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        timeout_s=settings.stripe_timeout_s,
        lookup=settings.stripe_lookup,
        disputes=settings.stripe_disputes,
    )
    return StripeConnection(make_client(config), Guard("stripe"), config.lookup, config.disputes)


def braintree_client(settings: Settings) -> BraintreeClient | None:
    """The Braintree connection (gateway and PayPal vault) when a merchant is configured."""
    if not settings.braintree_merchant_id:
        return None
    if not settings.braintree_public_key or settings.braintree_private_key is None:
        raise ValueError(
            "LEDGER_BRAINTREE_PUBLIC_KEY and _PRIVATE_KEY are required with a merchant"
        )
    config = BraintreeConfig(
        merchant_id=settings.braintree_merchant_id,
        public_key=settings.braintree_public_key,
        private_key=settings.braintree_private_key.get_secret_value(),
        environment=settings.braintree_environment,
        host=settings.braintree_host,
        port=settings.braintree_port,
        timeout_s=settings.braintree_timeout_s,
        default_currency=settings.braintree_default_currency,
        merchant_accounts=dict(settings.braintree_merchant_accounts),
    )
    return BraintreeClient.from_config(config)


def payment_gateway(
    stripe: PaymentGateway | None = None, braintree: PaymentGateway | None = None
) -> PaymentGateway:
    """NoProcessor when nothing is configured, else a RoutingGateway."""
    if stripe is None and braintree is None:
        return NoProcessor()
    return RoutingGateway(stripe=stripe, braintree=braintree)
