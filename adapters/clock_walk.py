"""Advancing a test clock as Stripe does: time moves in steps and the billing run of the
clock's accounts runs at each step's time, so every renewal and dunning retry due on the
way happens on its day (a clock moved three months at once still renews three times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.bootstrap import Container
from adapters.clock_registry import ClockCannotGoBack, ClockRegistry, TestClock, TestClocksRefused
from commands import dunning
from commands.models import CommandContext, RunBilling
from ledger.meta import ActorKind, Surface

DAY = timedelta(days=1)


@dataclass
class Walk:
    clock: TestClock
    steps: int = 0
    renewed: int = 0
    attempts: int = 0
    exhausted: int = 0
    errors: int = 0


def registry(container: Container) -> ClockRegistry:
    if container.clocks is None:
        raise TestClocksRefused()
    return container.clocks


def advance(
    container: Container, clock_id: str, to: datetime, *, step: timedelta = DAY, actor: str
) -> Walk:
    """Moves the clock to `to` in steps of `step` (the last one shorter), running the
    billing of its accounts after each. Raises ClockCannotGoBack, ClockNotFound."""
    clocks = registry(container)
    walk = Walk(clocks.get(clock_id))
    if to < walk.clock.frozen_at:
        raise ClockCannotGoBack(f"{clock_id} is at {walk.clock.frozen_at}")
    while walk.clock.frozen_at < to:
        walk.clock = clocks.advance(clock_id, min(walk.clock.frozen_at + step, to))
        _bill(container, clocks, walk, actor)
    return walk


def _bill(container: Container, clocks: ClockRegistry, walk: Walk, actor: str) -> None:
    walk.steps += 1
    account_ids = clocks.accounts_on(walk.clock.clock_id)
    if not account_ids:
        return
    ctx = CommandContext(actor_id=actor, actor_kind=ActorKind.SYSTEM, surface=Surface.CLI)
    report = dunning.run_billing(container.deps, RunBilling(account_ids=account_ids), ctx)
    walk.renewed += report.renewed
    walk.attempts += len(report.attempts)
    walk.exhausted += len(report.exhausted)
    walk.errors += len(report.errors)
