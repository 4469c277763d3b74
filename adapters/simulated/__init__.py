"""The simulated processor of the embedded default: Stripe (cards) and Braintree (PayPal) as
their test modes answer, kept in PostgreSQL (the `sim_*` tables) so that a restart keeps what
it charged and reconciliation compares the ledger against it. Chosen only when no real
processor is configured, never in production settings (adapters/settings.py). Every
reference it makes carries `sim` (`cus_sim_`, `pm_sim_`, `pi_sim_`, `re_sim_`, `sim_`...)."""

from adapters.simulated.cards import MAGIC_CARDS, MagicCard, SimulatedCards
from adapters.simulated.gateway import SimulatedGateway, SimulatedPayments
from adapters.simulated.paypal import PAYPAL_NONCES, SimulatedPayPal
from adapters.simulated.store import SimulatedStore

__all__ = [
    "MAGIC_CARDS",
    "PAYPAL_NONCES",
    "MagicCard",
    "SimulatedCards",
    "SimulatedGateway",
    "SimulatedPayPal",
    "SimulatedPayments",
    "SimulatedStore",
]
