"""Stripe through the official SDK: cards charged with PaymentIntents, refunds, customers
and card vaulting (SetupIntents). Nothing connects, and no client exists, until the
composition root builds one from settings."""

from adapters.stripe.client import StripeConfig, make_client
from adapters.stripe.gateway import StripeGateway
from adapters.stripe.resilience import Guard, RetryPolicy

__all__ = ["Guard", "RetryPolicy", "StripeConfig", "StripeGateway", "make_client"]
