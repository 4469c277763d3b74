"""Real PostgreSQL, Redis and the processors' local stand-ins (localstripe, the local
Braintree gateway, the local Turnstile siteverify), and a container wired to all of them
from Settings as tests/integration/test_payment_flow.py wires it."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import stripe
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate
from adapters.processors import RoutingGateway
from adapters.settings import Settings
from bench.cpu import run_marker
from bench.measure import say
from bench.processor_calls import Counters, TimedCall, TimedHumanCheck, counting_stripe_clients
from ledger.payments import Processor
from tests.braintree_gateway import LocalBraintreeGateway, running_braintree_gateway
from tests.fakes.turnstile_server import TurnstileServer
from tests.harness import LocalStripeServer, running_localstripe, running_postgres, running_redis

SITE_KEY, TURNSTILE_SECRET = "0x4AAAAAAAbenchsitekey", "0x4AAAAAAAbenchsecret"
POOL_SIZE = 4


@dataclass(frozen=True)
class StandIns:
    dsn: str
    redis_url: str
    localstripe: LocalStripeServer
    braintree: LocalBraintreeGateway
    turnstile: TurnstileServer
    started_in_s: float

    def settings(self) -> Settings:
        return Settings(
            database_url=self.dsn,
            kafka_bootstrap=None,
            pool_size=POOL_SIZE,
            stripe_api_key=SecretStr(self.localstripe.api_key),
            stripe_api_base=self.localstripe.url,
            stripe_lookup="list",  # localstripe cannot search
            stripe_disputes=False,  # nor list disputes
            **self.braintree.ledger_settings(),
            turnstile_site_key=SITE_KEY,
            turnstile_secret=SecretStr(TURNSTILE_SECRET),
            turnstile_url=self.turnstile.url,
            redis_url=self.redis_url,
        )

    def browser_sdk(self) -> stripe.StripeClient:
        """What Stripe.js does in the customer's browser (create a PaymentMethod): its own
        client, so its calls are not counted as the ledger's."""
        return stripe.StripeClient(
            self.localstripe.api_key,
            base_addresses={"api": self.localstripe.url},
            max_network_retries=0,
        )


@contextmanager
def running_stand_ins() -> Iterator[StandIns]:
    with tempfile.TemporaryDirectory(prefix=run_marker()) as tmp, ExitStack() as stack:
        work = Path(tmp)
        pg = stack.enter_context(running_postgres(work / "postgres"))
        redis_server = stack.enter_context(running_redis(work / "redis"))
        localstripe = stack.enter_context(running_localstripe(work / "localstripe"))
        braintree = stack.enter_context(running_braintree_gateway())
        turnstile = TurnstileServer()
        turnstile.site(SITE_KEY, TURNSTILE_SECRET)
        stack.enter_context(turnstile.running())
        started = pg.started_in_s + redis_server.started_in_s + localstripe.started_in_s
        say(
            f"postgres in {pg.started_in_s:.1f}s, redis in {redis_server.started_in_s:.1f}s,"
            f" localstripe in {localstripe.started_in_s:.1f}s"
        )
        migrate(configured(pg.dsn))
        yield StandIns(pg.dsn, redis_server.url, localstripe, braintree, turnstile, started)


@contextmanager
def counted_container(stand_ins: StandIns) -> Iterator[tuple[Container, Counters]]:
    """The container from Settings (real clock), its Stripe HTTP client a counting one and
    its Turnstile verifier and its Stripe charge lookup timed."""
    with counting_stripe_clients() as made:
        container = build(stand_ins.settings())
    if len(made) != 1 or container.checkout is None or container.stripe is None:
        container.close()
        raise RuntimeError(f"expected one Stripe HTTP client and a checkout, got {len(made)}")
    human_check = TimedHumanCheck(container.checkout.human_check)
    container.checkout = dataclasses.replace(container.checkout, human_check=human_check)
    # The RoutingGateway holds the wired StripeCharges and looks the method up per call.
    charges = cast(RoutingGateway, container.deps.gateway).gateway_for(Processor.STRIPE)
    find_charge = TimedCall(charges.find_charge)
    charges.find_charge = find_charge  # type: ignore[method-assign]
    counters = Counters(
        made[0],
        human_check,
        find_charge,
        lambda: len(stand_ins.braintree.calls.seen),
        lambda: len(stand_ins.turnstile.checks),
        stand_ins.redis_url,
        stand_ins.dsn,
    )
    try:
        yield container, counters
    finally:
        counters.close()
        container.close()
