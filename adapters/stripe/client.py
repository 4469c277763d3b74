"""The Stripe SDK client, built explicitly from settings by the composition root (never at
import time, never through the SDK's module-level globals). The API key lives only in the
client; StripeConfig never shows it in a repr or a log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import stripe

ChargeLookup = Literal["search", "list"]


@dataclass(frozen=True)
class StripeConfig:
    api_key: str = field(repr=False)
    api_base: str | None = None  # e.g. a localstripe URL; None = api.stripe.com
    timeout_s: float = 30.0
    # How an attempt id (and an account id) is found again at Stripe: "search" uses the
    # Search API (production: indexed, but up to about a minute behind); "list" pages through
    # every PaymentIntent / customer and filters the metadata here (exact, fine for a small
    # test account and localstripe, which has no Search API).
    lookup: ChargeLookup = "search"
    # Whether reconciliation asks for a payment's disputes (the Disputes API); false for
    # localstripe, which has none: disputes are then not compared.
    disputes: bool = True


def make_client(config: StripeConfig) -> stripe.StripeClient:
    """The SDK never retries by itself (max_network_retries=0): a repeated POST is only safe
    where the processor honours idempotency keys, so retries are decided by the gateway."""
    return stripe.StripeClient(
        config.api_key,
        base_addresses={"api": config.api_base} if config.api_base else None,
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=config.timeout_s),
    )
