"""The billing run bills an account attached to a test clock at that clock's time, and
every other account at the process clock."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import UUID, uuid4

from commands.dunning import at_its_time
from commands.ports import Clock
from tests.fakes.builders import in_memory_deps
from tests.fakes.clock import FixedClock


class OneClock:
    def __init__(self, account_id: UUID, clock: Clock) -> None:
        self.account_id, self.clock = account_id, clock

    def clock_for(self, account_id: UUID) -> Clock | None:
        return self.clock if account_id == self.account_id else None


def test_an_attached_account_runs_at_its_clocks_time_and_others_at_the_process_clock() -> None:
    attached, other = uuid4(), uuid4()
    later = FixedClock(datetime(2027, 3, 1, tzinfo=UTC))
    deps = dataclasses.replace(in_memory_deps(), account_clocks=OneClock(attached, later))
    assert at_its_time(deps, attached).clock.now() == datetime(2027, 3, 1, tzinfo=UTC)
    assert at_its_time(deps, other) is deps


def test_without_test_clocks_wired_every_account_runs_at_the_process_clock() -> None:
    deps = in_memory_deps()
    assert deps.account_clocks is None
    assert at_its_time(deps, uuid4()) is deps
