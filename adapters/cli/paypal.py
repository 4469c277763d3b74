"""`ledger paypal ...`: the PayPal token migration (commands/paypal_migration.py)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapters.cli.runtime import configured_container
from adapters.postgres.paypal_candidates import LegacyPayPalAccounts
from adapters.throttle import Throttle
from commands.models import CommandContext
from commands.paypal_migration import MigrationReport, Outcome, TokenMigration
from ledger.meta import ActorKind, Surface

app = typer.Typer(no_args_is_help=True, help="PayPal through Braintree.")
console = Console()
Actor = Annotated[str, typer.Option(envvar="USER", help="Who is acting (recorded)")]
EXIT_FAILURES = 1
EXIT_STOPPED = 3


@app.command("migrate-tokens")
def migrate_tokens(
    dry_run: Annotated[bool, typer.Option(help="Print the plan; change nothing")] = False,
    account: Annotated[list[UUID] | None, typer.Option(help="Only these accounts")] = None,
    rate: Annotated[str, typer.Option(help="Braintree migrations at most, e.g. 5/second")] = (
        "5/second"
    ),
    limit: Annotated[int | None, typer.Option(min=1, help="Migrate at most N methods")] = None,
    reason: Annotated[str, typer.Option(help="Recorded on the events")] = (
        "PayPal token migration to billing agreements"
    ),
    actor: Actor = "",
) -> None:
    """Re-vault legacy PayPal methods as billing agreements and record the migration.
    Safe to rerun: what is done is skipped, an interrupted run resumes."""
    try:
        throttle = Throttle(rate)
    except ValueError as error:
        raise typer.BadParameter(f"--rate: {error}") from None
    ctx = CommandContext(
        actor_id=actor or "operator",
        actor_kind=ActorKind.SUPPORT,
        surface=Surface.CLI,
        reason=reason,
    )
    with configured_container() as container:
        if container.paypal is None:
            console.print("[red]Braintree is not configured[/red] (LEDGER_BRAINTREE_*)")
            raise typer.Exit(code=2)
        ids = list(account) if account else list(LegacyPayPalAccounts(container.app).account_ids())
        job = TokenMigration(container.deps, container.paypal, throttle, ctx)
        with _progress() as bar:
            task = bar.add_task("dry run" if dry_run else "migrating", total=len(ids))
            report = job.run(
                ids, dry_run=dry_run, limit=limit, progress=lambda _a: bar.advance(task)
            )
    _print(report, dry_run)
    if report.stopped:
        raise typer.Exit(code=EXIT_STOPPED)
    if report.count(Outcome.FAILED):
        raise typer.Exit(code=EXIT_FAILURES)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("accounts"),
        TimeElapsedColumn(),
        console=console,
    )


def _print(report: MigrationReport, dry_run: bool) -> None:
    table = Table("account", "method", "token", "default", "collection path", "outcome", "why")
    for r in report.results:
        p = r.plan
        path = p.collection_path.value
        if r.collection_path is not None and r.collection_path is not p.collection_path:
            path += f" -> {r.collection_path.value}"
        table.add_row(
            str(p.account_id),
            p.method_id,
            p.old_ref,
            "yes" if p.is_default else "no",
            path,
            r.outcome.value,
            r.reason or "",
        )
    console.print(table)
    counts = ", ".join(f"{o.value} {report.count(o)}" for o in Outcome if report.count(o))
    title = "plan (dry run, nothing changed)" if dry_run else "report"
    console.print(f"{title}: {report.accounts_seen} accounts, {counts or 'nothing to do'}")
    if report.stopped:
        console.print(f"[red]stopped[/red]: {report.stopped}")
