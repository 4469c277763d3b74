"""Every Stripe port in one object over one client and guard, for the callers that use them
all: the webhook edge (which reads objects back and may refund), tools and the tests. The
composition root wires each port's own class instead (adapters/bootstrap.py)."""

from __future__ import annotations

import stripe

from adapters.stripe.cards import StripeCards
from adapters.stripe.charges import StripeCharges
from adapters.stripe.client import ChargeLookup
from adapters.stripe.connection import StripeConnection
from adapters.stripe.customers import StripeCustomers
from adapters.stripe.objects import StripeObjects
from adapters.stripe.payments import StripePayments
from adapters.stripe.resilience import Guard


class StripeGateway(StripeCharges, StripeCustomers, StripeCards, StripePayments, StripeObjects):
    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        lookup: ChargeLookup = "search",
        disputes: bool = True,
        guard: Guard | None = None,
    ) -> None:
        super().__init__(StripeConnection(client, guard or Guard("stripe"), lookup, disputes))

    @classmethod
    def over(cls, connection: StripeConnection) -> StripeGateway:
        """Every port over a connection the ports wired one by one share."""
        return cls(
            connection.client,
            lookup=connection.lookup,
            disputes=connection.disputes,
            guard=connection.guard,
        )
