"""Integration fixtures: the real store with the scripted fake gateway behind the port."""

from __future__ import annotations

import dataclasses

import pytest

from adapters.bootstrap import Container
from commands.base import Deps
from tests.fakes.gateway import FakeGateway


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def deps(container: Container, gateway: FakeGateway) -> Deps:
    return dataclasses.replace(container.deps, gateway=gateway)
