"""Braintree (PayPal) over the official SDK, one class per port over one shared client:
`client = BraintreeClient.from_config(BraintreeConfig(...))`, then `BraintreeSales(client)`
(PaymentGateway), `BraintreePayments(client)` (PaymentLookup) and
`BraintreePayPalVault(client)`; `BraintreeGateway(client)` is the first two in one."""

from adapters.braintree.client import BraintreeClient
from adapters.braintree.config import BraintreeConfig
from adapters.braintree.gateway import BraintreeGateway
from adapters.braintree.payments import BraintreePayments
from adapters.braintree.sales import BraintreeSales
from adapters.braintree.vault import BraintreePayPalVault

__all__ = [
    "BraintreeClient",
    "BraintreeConfig",
    "BraintreeGateway",
    "BraintreePayPalVault",
    "BraintreePayments",
    "BraintreeSales",
]
