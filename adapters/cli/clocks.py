"""Test clocks (development and tests; refused in production settings): make one, attach
accounts before their billing history, advance it and watch renewals and dunning happen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from adapters.cli.runtime import configured_container
from adapters.clock_walk import advance as advance_clock
from adapters.clock_walk import registry, system_ctx
from commands.base import load_account

app = typer.Typer(no_args_is_help=True, help="Test clocks (never in production).")
console = Console()
Actor = Annotated[str, typer.Option(envvar="USER", help="Who is acting (recorded)")]


def _when(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@app.command("new")
def new(
    name: str,
    start: Annotated[str | None, typer.Option(help="ISO time (default: now)")] = None,
) -> None:
    """Make a test clock frozen at `start`."""
    with configured_container() as container:
        clock = registry(container).new(name, _when(start))
    console.print(f"{clock.clock_id} {clock.name} at {clock.frozen_at.isoformat()}")


@app.command("attach")
def attach(
    clock_id: str,
    account_id: UUID,
    reason: Annotated[str, typer.Option(help="Why (kept with the attachment; required)")],
    actor: Actor = "",
) -> None:
    """Attach an account with no billing history yet: its billing runs at the clock's time."""
    with configured_container() as container:
        account = load_account(container.app, account_id)
        registry(container).attach(account, clock_id, actor or "operator", reason)
    console.print(f"{account_id} attached to {clock_id}")


@app.command("advance")
def advance(
    clock_id: str,
    days: Annotated[float, typer.Option(help="How far to move it", min=0)] = 0,
    to: Annotated[str | None, typer.Option(help="Or: to this ISO time")] = None,
    step_days: Annotated[float, typer.Option(help="Billing runs after each step", min=0.01)] = 1,
    reason: Annotated[str, typer.Option(help="Why (kept with the advance)")] = (
        "advanced from the command line"
    ),
    actor: Actor = "test-clock",
) -> None:
    """Move the clock forward; the billing of its accounts runs at every step on the way.
    The advance is kept with who made it and why."""
    ctx = system_ctx(actor or "clock", reason)
    with configured_container() as container:
        current = registry(container).get(clock_id).frozen_at
        target = _when(to) if to else current + timedelta(days=days)
        walk = advance_clock(container, clock_id, target, step=timedelta(days=step_days), ctx=ctx)
    console.print(
        f"{clock_id} at {walk.clock.frozen_at.isoformat()}: steps={walk.steps}"
        f" renewed={walk.renewed} attempts={walk.attempts} exhausted={walk.exhausted}"
        f" errors={walk.errors}"
    )
    if walk.errors:
        raise typer.Exit(code=1)


@app.command("list")
def list_clocks() -> None:
    """Every test clock, its time and how many accounts are attached."""
    with configured_container() as container:
        for clock in registry(container).all():
            console.print(
                f"{clock.clock_id} {clock.name} at {clock.frozen_at.isoformat()}"
                f" accounts={clock.accounts}"
            )
