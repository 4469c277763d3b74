"""Advancing a test clock as Stripe does: time moves in steps and the billing run of the
clock's accounts runs at each step's time, so every renewal and dunning retry due on the
way happens on its day (a clock moved three months at once still renews three times).

Every advance is recorded (`test_clock_advances`): who moved the clock, through which
surface, why, from when to when, and what the billing run did. The billing run's events
carry the same context (actor, surface, reason, correlation), since that person's advance
caused them. A keyed advance (`ctx.command_id`) repeated answers the first one and moves
nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.bootstrap import Container
from adapters.clock_registry import (
    AdvanceAsked,
    ClockCannotGoBack,
    ClockRegistry,
    RecordedAdvance,
    TestClock,
    TestClocksRefused,
)
from commands import dunning
from commands.errors import CommandIdReused, CommandInFlight
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
    replayed: bool = False
    recorded: RecordedAdvance | None = None

    def totals(self) -> dict[str, int]:
        return {
            "steps": self.steps,
            "renewed": self.renewed,
            "attempts": self.attempts,
            "exhausted": self.exhausted,
            "errors": self.errors,
        }


def registry(container: Container) -> ClockRegistry:
    if container.clocks is None:
        raise TestClocksRefused(
            "Test clocks are refused here: this deployment runs with production settings,"
            " so no test clock is wired."
        )
    return container.clocks


def system_ctx(actor: str, reason: str | None = None) -> CommandContext:
    """The context of an advance made from the command line or the demo."""
    return CommandContext(
        actor_id=actor, actor_kind=ActorKind.SYSTEM, surface=Surface.CLI, reason=reason
    )


def advance(
    container: Container,
    clock_id: str,
    to: datetime,
    *,
    step: timedelta = DAY,
    actor: str | None = None,
    ctx: CommandContext | None = None,
) -> Walk:
    """Moves the clock to `to` in steps of `step` (the last one shorter), running the
    billing of its accounts after each, as `ctx` (or the system `actor`). Raises
    ClockCannotGoBack, ClockNotFound; for a repeated command id, the first advance's walk
    (replayed), CommandIdReused (another request) or CommandInFlight (still walking)."""
    ctx = ctx or system_ctx(actor or "test-clock")
    clocks = registry(container)
    walk = Walk(clocks.get(clock_id))
    if to < walk.clock.frozen_at:
        raise ClockCannotGoBack(f"{clock_id} is at {walk.clock.frozen_at}")
    begun = clocks.begin_advance(AdvanceAsked(clock_id, to, ctx), walk.clock.frozen_at)
    if begun is None:
        return _replayed(clocks, walk, ctx)
    while walk.clock.frozen_at < to:
        walk.clock = clocks.advance(clock_id, min(walk.clock.frozen_at + step, to))
        _bill(container, clocks, walk, ctx)
    walk.recorded = clocks.finish_advance(begun.advance_id, walk.totals())
    return walk


def _replayed(clocks: ClockRegistry, walk: Walk, ctx: CommandContext) -> Walk:
    first = clocks.recorded_advance(ctx.command_id) if ctx.command_id else None
    same = first is not None and (first.clock_id, first.fingerprint) == (
        walk.clock.clock_id,
        ctx.fingerprint,
    )
    if first is None or not same:
        raise CommandIdReused()
    if first.totals is None:
        raise CommandInFlight()
    return Walk(walk.clock, **first.totals, replayed=True, recorded=first)


def _bill(container: Container, clocks: ClockRegistry, walk: Walk, ctx: CommandContext) -> None:
    walk.steps += 1
    account_ids = clocks.accounts_on(walk.clock.clock_id)
    if not account_ids:
        return
    report = dunning.run_billing(container.deps, RunBilling(account_ids=account_ids), ctx)
    walk.renewed += report.renewed
    walk.attempts += len(report.attempts)
    walk.exhausted += len(report.exhausted)
    walk.errors += len(report.errors)
