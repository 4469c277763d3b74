"""Integration fixtures: the real store with the scripted fake gateway behind the port."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from adapters.bootstrap import Container
from commands.base import Deps
from tests.braintree_gateway import LocalBraintreeGateway, running_braintree_gateway
from tests.fakes.gateway import FakeGateway
from tests.harness import LocalStripeServer, running_localstripe


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def deps(container: Container, gateway: FakeGateway) -> Deps:
    return dataclasses.replace(container.deps, gateway=gateway)


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


@pytest.fixture
def braintree_server() -> Iterator[LocalBraintreeGateway]:
    """A local Braintree gateway of this test's own (see tests/braintree_gateway)."""
    with running_braintree_gateway() as server:
        yield server
