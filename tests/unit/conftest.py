"""Unit fixtures: the handlers' dependencies in memory, an in-memory event store with the
`clock` and `gateway` of tests/conftest.py."""

from __future__ import annotations

import pytest

from commands.base import Deps
from tests.fakes.builders import in_memory_deps
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


@pytest.fixture
def deps(clock: FixedClock, gateway: FakeGateway) -> Deps:
    return in_memory_deps(clock, gateway)
