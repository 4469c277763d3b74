"""Stripe through the official SDK, one class per port over one shared client and guard
(StripeConnection): StripeCharges (PaymentIntents and refunds), StripeCustomers, StripeCards
(vaulting with SetupIntents), StripePayments (reconciliation lookups) and StripeObjects
(reads for the webhooks). Nothing connects, and no client exists, until the
composition root builds one from settings."""

from adapters.stripe.cards import StripeCards
from adapters.stripe.charges import StripeCharges
from adapters.stripe.client import StripeConfig, make_client
from adapters.stripe.connection import StripeConnection
from adapters.stripe.customers import StripeCustomers
from adapters.stripe.gateway import StripeGateway
from adapters.stripe.objects import StripeObjects
from adapters.stripe.payments import StripePayments
from adapters.stripe.resilience import Guard, RetryPolicy

__all__ = [
    "Guard",
    "RetryPolicy",
    "StripeCards",
    "StripeCharges",
    "StripeConfig",
    "StripeConnection",
    "StripeCustomers",
    "StripeGateway",
    "StripeObjects",
    "StripePayments",
    "make_client",
]
