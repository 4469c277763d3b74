"""Unit fixtures: the handlers' dependencies in memory (an in-memory event store, the fixed
`clock` of tests/conftest.py and a fake gateway). A module that needs another fake gateway
names its class: `pytestmark = pytest.mark.parametrize("gateway", [LostAnswers],
indirect=True)`."""

from __future__ import annotations

import pytest

from commands.base import Deps
from tests.fakes.builders import in_memory_deps
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


@pytest.fixture
def gateway(request: pytest.FixtureRequest) -> FakeGateway:
    """A FakeGateway, or the FakeGateway subclass the module names (see above)."""
    fake: type[FakeGateway] = getattr(request, "param", FakeGateway)
    return fake()


@pytest.fixture
def deps(clock: FixedClock, gateway: FakeGateway) -> Deps:
    return in_memory_deps(clock, gateway)
