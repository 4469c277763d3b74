"""Integration fixtures: the real store with the scripted fake gateway behind the port, and
the session's local payment services (localstripe, the local Braintree gateway), emptied
for each test."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from uuid import uuid4

import pytest

from adapters.bootstrap import Container, build
from adapters.settings import Settings
from commands.base import Deps
from tests.braintree_gateway import LocalBraintreeGateway, running_braintree_gateway
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.harness import KafkaServer, LocalStripeServer, running_localstripe


@pytest.fixture
def deps(container: Container, gateway: FakeGateway) -> Deps:
    return dataclasses.replace(container.deps, gateway=gateway)


@pytest.fixture
def container_gateway(container: Container, gateway: FakeGateway) -> FakeGateway:
    """The test's fake gateway put behind the container's own port, for tests that go through
    HTTP or the CLI: `pytestmark = pytest.mark.usefixtures("container_gateway")`."""
    container.deps = dataclasses.replace(container.deps, gateway=gateway)
    return gateway


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the CLI reads its settings from: this test's database, JSON logs
    (`pytestmark = pytest.mark.usefixtures("configured")`)."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_LOG_JSON", "true")


@pytest.fixture(scope="session")
def localstripe_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripeServer]:
    """One localstripe for the session; fails the tests (never skips) when it cannot start."""
    with running_localstripe(tmp_path_factory.mktemp("localstripe")) as server:
        yield server


@pytest.fixture
def localstripe(localstripe_session: LocalStripeServer) -> LocalStripeServer:
    """The session's localstripe, emptied for this test."""
    localstripe_session.reset()
    return localstripe_session


@pytest.fixture(scope="session")
def braintree_session() -> Iterator[LocalBraintreeGateway]:
    """One local Braintree gateway for the session (see tests/braintree_gateway), with a
    merchant account in each currency the tests charge in; a request held by `hang()` gives
    up after 10 s."""
    with running_braintree_gateway(hang_s=10) as server:
        yield server


@pytest.fixture
def braintree_server(braintree_session: LocalBraintreeGateway) -> Iterator[LocalBraintreeGateway]:
    """The session's local Braintree gateway, emptied for this test (data, faults, recorded
    calls); emptied again after it, which also lets go the requests it left hanging."""
    braintree_session.reset()
    yield braintree_session
    braintree_session.reset()


@pytest.fixture
def paypal_container(
    database_url: str, clock: FixedClock, braintree_server: LocalBraintreeGateway
) -> Iterator[Container]:
    """The container wired to the local Braintree gateway (PayPal through Braintree)."""
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        pool_size=4,
        **braintree_server.ledger_settings(),
    )
    built = build(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def kafka_container(database_url: str, kafka_server: KafkaServer) -> Iterator[Container]:
    """A container relaying to the session's Kafka, on a topic of this test's own."""
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_server.bootstrap,
        topic=f"billing.events.{uuid4().hex[:8]}",
        pool_size=4,
    )
    built = build(settings)
    yield built
    built.close()
