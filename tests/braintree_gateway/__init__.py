"""A local Braintree gateway speaking its XML API, for the official SDK in tests."""

from tests.braintree_gateway.server import (
    MERCHANT_ACCOUNTS,
    LocalBraintreeGateway,
    running_braintree_gateway,
)
from tests.braintree_gateway.state import (
    BILLING_AGREEMENT_NONCE,
    DECLINES,
    FUTURE_NONCE,
    ONE_TIME_NONCE,
)

__all__ = [
    "BILLING_AGREEMENT_NONCE",
    "DECLINES",
    "FUTURE_NONCE",
    "MERCHANT_ACCOUNTS",
    "ONE_TIME_NONCE",
    "LocalBraintreeGateway",
    "running_braintree_gateway",
]
