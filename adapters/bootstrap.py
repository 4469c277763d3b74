"""The composition root: the one place that knows every adapter and wires them to the ports.
Nothing connects before `build()` is called."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool

from adapters.braintree import BraintreePayments, BraintreePayPalVault, BraintreeSales
from adapters.braintree.webhooks import BraintreeWebhooks
from adapters.clock import SystemClock
from adapters.clock_registry import ClockRegistry
from adapters.field_cipher import AesGcmFields
from adapters.postgres import database
from adapters.postgres.data_keys import PostgresDataKeys
from adapters.postgres.database import Database
from adapters.postgres.migrate import migrate, pending
from adapters.postgres.page_load import PostgresPageLoader
from adapters.postgres.store_reader import StoreReader
from adapters.postgres.wakeups import StoreWakeups
from adapters.processors import braintree_client, payment_gateway, stripe_connection
from adapters.redis.sessions import MemorySessionStore, RedisSessionStore
from adapters.settings import Settings
from adapters.simulated import (
    SimulatedCards,
    SimulatedGateway,
    SimulatedPayments,
    SimulatedPayPal,
    SimulatedStore,
)
from adapters.simulated.human_check import SimulatedHumanCheck
from adapters.stripe import (
    StripeCards,
    StripeCharges,
    StripeCustomers,
    StripeGateway,
    StripePayments,
)
from adapters.turnstile.verifier import TurnstileVerifier
from commands.application import LedgerApplication
from commands.base import Deps, ProcessorAccounts
from commands.catalogue import StaticCatalogue
from commands.checkout import Checkout
from commands.checkout_ports import HumanCheck, SessionStore
from commands.group_commit import GroupCommit
from commands.ports import Clock, PaymentGateway, PaymentLookup
from ledger.dunning import DunningPolicy
from ledger.payments import Processor
from projections.base import Projection
from projections.registry import all_projections


class SchemaNotMigrated(RuntimeError):
    pass


@dataclass
class Container:
    settings: Settings
    db: Database
    app: LedgerApplication
    deps: Deps
    pool: ConnectionPool[Connection[Any]]
    reader: StoreReader
    projections: dict[str, Projection[Any]] = field(default_factory=all_projections)
    stripe: StripeGateway | None = None  # every Stripe port, for the webhook edge and tools
    paypal: BraintreePayPalVault | None = None  # Braintree customers and PayPal vaulting
    braintree_webhooks: BraintreeWebhooks | None = None  # parses /webhooks/braintree
    checkout: Checkout | None = None  # the payment flow; None without Turnstile (or simulation)
    simulated: SimulatedGateway | None = None  # the simulated processor, when it serves
    clocks: ClockRegistry | None = None  # test clocks; None in production settings
    data_keys: PostgresDataKeys | None = None  # the accounts' data keys (personal data)

    @contextmanager
    def connection(self) -> Iterator[Connection[Any]]:
        with self.pool.connection() as conn:
            yield conn

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.checkout is not None:
            self.checkout.human_check.close()
        self.pool.close()
        self.app.close()


def store_wakeups(container: Container) -> StoreWakeups:
    """Wake-ups on the store's commits (not started: the caller starts and stops them)."""
    return StoreWakeups(container.db.conninfo, container.app.recorder.channel_name)  # type: ignore[attr-defined]


def resolve_database(settings: Settings) -> Database:
    if settings.database_url:
        return database.configured(settings.database_url)
    return database.embedded(settings.data_dir)


def _catalogue(settings: Settings) -> StaticCatalogue:
    if settings.plans_file:
        return StaticCatalogue.from_file(settings.plans_file)
    return StaticCatalogue()


def build(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    """Builds everything. The embedded default migrates itself; a configured database must
    have been migrated by `ledger db migrate` (the compose migration job)."""
    settings = settings or Settings()
    db = resolve_database(settings)
    if settings.embedded:
        migrate(db)
    elif missing := pending(db):
        raise SchemaNotMigrated(f"pending migrations {missing}: run `ledger db migrate`")
    pool: ConnectionPool[Connection[Any]] = ConnectionPool(
        db.conninfo, min_size=1, max_size=settings.pool_size, open=True, name="read-models"
    )
    data_keys = PostgresDataKeys(pool.connection)
    app = LedgerApplication(
        env=db.eventsourcing_env(settings.pool_size), personal=AesGcmFields(data_keys)
    )
    if settings.group_commit_max_accounts > 1:
        app.group_commit = GroupCommit(app, settings.group_commit_max_accounts)
    stripe = stripe_connection(settings)  # one client and guard for every Stripe port
    braintree = braintree_client(settings)
    paypal = BraintreePayPalVault(braintree) if braintree else None
    sales = BraintreeSales(braintree) if braintree else None
    payments: dict[Processor, PaymentLookup] = {}
    if stripe:
        payments[Processor.STRIPE] = StripePayments(stripe)
    if braintree:
        payments[Processor.BRAINTREE] = BraintreePayments(braintree)
    reader = StoreReader(app)
    gateway = payment_gateway(stripe=StripeCharges(stripe) if stripe else None, braintree=sales)
    processors = ProcessorAccounts(
        stripe_customers=StripeCustomers(stripe) if stripe else None,
        cards=StripeCards(stripe) if stripe else None,
        paypal=paypal,
        payments=payments,
    )
    simulated = None
    if settings.simulates_processors:
        simulated, gateway, processors = _simulated(pool)
    clocks = None if settings.environment == "production" else ClockRegistry(pool, settings)
    deps = Deps(
        app=app,
        clock=clock or SystemClock(),
        new_id=uuid.uuid4,
        positions=reader,
        gateway=gateway,
        catalogue=_catalogue(settings),
        dunning=DunningPolicy(settings.dunning_retry_days, settings.dunning_backup_methods),
        processors=processors,
        account_clocks=clocks,
        pages=PostgresPageLoader(app),
        charge_concurrency=settings.billing_charge_concurrency,
    )
    return Container(
        settings,
        db,
        app,
        deps,
        pool,
        reader,
        stripe=StripeGateway.over(stripe) if stripe else None,
        paypal=paypal,
        braintree_webhooks=BraintreeWebhooks(braintree) if braintree else None,
        checkout=_checkout(settings, deps),
        simulated=simulated,
        clocks=clocks,
        data_keys=data_keys,
    )


def _simulated(
    pool: ConnectionPool[Connection[Any]],
) -> tuple[SimulatedGateway, PaymentGateway, ProcessorAccounts]:
    """The simulated processor behind every processor port (settings decide when)."""
    store = SimulatedStore(pool)
    gateway = SimulatedGateway(store)
    cards = SimulatedCards(store)
    accounts = ProcessorAccounts(
        stripe_customers=cards,
        cards=cards,
        paypal=SimulatedPayPal(store),
        payments={p: SimulatedPayments(store, p) for p in Processor},
    )
    return gateway, gateway, accounts


def _checkout(settings: Settings, deps: Deps) -> Checkout | None:
    """Payment sessions need the bot check (Turnstile, or its simulation beside the simulated
    processor); they live in Redis when it is configured (shared
    by every API process), else in this process (the embedded default is one process)."""
    verifier: HumanCheck
    if settings.turnstile_site_key and settings.turnstile_secret is not None:
        verifier = TurnstileVerifier(
            settings.turnstile_site_key,
            settings.turnstile_secret.get_secret_value(),
            url=settings.turnstile_url,
        )
    elif settings.simulates_processors:  # the embedded default's Turnstile, beside its processor
        verifier = SimulatedHumanCheck()
    else:
        return None
    sessions: SessionStore = (
        RedisSessionStore.from_url(settings.redis_url)
        if settings.redis_url
        else MemorySessionStore()
    )
    return Checkout(deps, verifier, sessions, settings.payment_session_ttl_s)
