"""Both Braintree payment ports in one object over one client, for the tests and tools that
use them together; the composition root wires each port's own class instead."""

from __future__ import annotations

from adapters.braintree.payments import BraintreePayments
from adapters.braintree.sales import BraintreeSales


class BraintreeGateway(BraintreeSales, BraintreePayments):
    """BraintreeSales and BraintreePayments in one object, for tools and tests (the
    composition root wires each as its own port)."""
