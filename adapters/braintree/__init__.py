"""Braintree (PayPal): the payment gateway and the PayPal vault over the official SDK.
Build both from one client: `client = BraintreeClient.from_config(BraintreeConfig(...))`,
then `BraintreeGateway(client)` and `BraintreePayPalVault(client)`."""

from adapters.braintree.client import BraintreeClient
from adapters.braintree.config import BraintreeConfig
from adapters.braintree.gateway import BraintreeGateway
from adapters.braintree.vault import BraintreePayPalVault

__all__ = ["BraintreeClient", "BraintreeConfig", "BraintreeGateway", "BraintreePayPalVault"]
