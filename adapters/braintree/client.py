"""One Braintree connection shared by the sales, the payment lookup and the PayPal vault:
the SDK gateway, the settings and one circuit breaker (all talk to the same service)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.braintree.config import BraintreeConfig, sdk_gateway
from adapters.braintree.resilience import Guard


@dataclass(frozen=True)
class BraintreeClient:
    config: BraintreeConfig
    sdk: Any  # braintree.BraintreeGateway (the SDK is untyped)
    guard: Guard

    @classmethod
    def from_config(cls, config: BraintreeConfig) -> BraintreeClient:
        return cls(config=config, sdk=sdk_gateway(config), guard=Guard(config))


class BraintreePort:
    """A port's adapter over the shared client."""

    def __init__(self, client: BraintreeClient) -> None:
        self._client = client
