"""`ledger reconcile ...`: the ledger against Stripe and Braintree, per account.

ledger reconcile ACCOUNT [ACCOUNT ...] | --all     check (and store) with a progress bar
ledger reconcile show ACCOUNT [--json]             what the last check found
ledger reconcile repair ACCOUNT ACTION --reason    an explicit repair, then a re-check
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from adapters.cli.runtime import configured_container, open_account_pages
from adapters.reconcile import reconcile_many, repair_and_recheck
from commands.models import CommandContext, RepairAction, RepairReconciliation
from commands.reconcile import AccountCheck
from commands.reconcile_runs import RunSummary
from ledger.meta import ActorKind, Surface
from ledger.payments import Processor
from queries.reconciliation import ReconciliationView, get_reconciliation

PAGE = 500


class RunByDefault(TyperGroup):
    """`ledger reconcile ACCOUNT ...` and `ledger reconcile --all` mean `... run ...`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=RunByDefault, no_args_is_help=True, help="Reconcile the ledger with the processors."
)
console = Console()
Actor = Annotated[str, typer.Option(envvar="USER", help="Who is acting (recorded)")]


@app.command("run")
def run(
    account: Annotated[list[UUID] | None, typer.Argument(help="Accounts to check")] = None,
    all_accounts: Annotated[bool, typer.Option("--all", help="Every open account")] = False,
) -> None:
    """Check accounts against the processors and store what each check finds."""
    if not account and not all_accounts:
        raise typer.BadParameter("name accounts, or pass --all")
    with configured_container() as container:
        ids = (
            list(account or [])
            if not all_accounts
            else [i for page in open_account_pages(container, PAGE) for i in page]
        )
        with _progress() as progress:
            task = progress.add_task("reconciling", total=len(ids))

            def advance(account_id: UUID, check: AccountCheck | None) -> None:
                progress.advance(task)

            summary = reconcile_many(container, ids, advance)
    _print_summary(summary)
    if summary.failed or summary.processor_errors:
        raise typer.Exit(code=1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _print_summary(summary: RunSummary) -> None:
    console.print(
        f"accounts checked {summary.accounts}: in step {summary.in_step},"
        f" with findings {summary.with_findings}, not checked {len(summary.failed)}"
    )
    for kind, count in sorted(summary.by_kind.items()):
        console.print(f"  {kind}: {count}")
    for processor, count in sorted(summary.processor_errors.items()):
        console.print(f"  [red]processor errors[/red] {processor}: {count}")
    for account_id, why in summary.failed.items():
        console.print(f"  [red]not checked[/red] {account_id}: {why}", highlight=False)


@app.command("show")
def show(
    account_id: UUID,
    as_json: Annotated[bool, typer.Option("--json", help="The stored check as JSON")] = False,
) -> None:
    """What the last check of the account found (the read model; nothing is asked)."""
    with configured_container() as container, container.connection() as conn:
        view = get_reconciliation(conn, account_id)
    if view is None:
        console.print(f"[red]{account_id} was never reconciled[/red]")
        raise typer.Exit(code=1)
    if as_json:
        console.print_json(view.model_dump_json())
    else:
        _print_view(view)


def _print_view(view: ReconciliationView) -> None:
    state = "in step" if view.in_step else f"{len(view.findings)} findings"
    checked = f"checked {view.checked_at.isoformat()} at version {view.account_version}"
    console.print(f"{view.account_id} {checked}: {state}")
    for f in view.findings:
        console.print(f"[bold]{f.kind}[/bold] {f.processor} {f.subject}", highlight=False)
        console.print(f"  ledger: {f.ledger_value or '-'}", markup=False, highlight=False)
        console.print(f"  {f.processor}: {f.processor_value or '-'}", markup=False, highlight=False)
        if f.detail:
            console.print(f"  {f.detail}", markup=False, highlight=False)
        console.print(f"  repair: {f.repair or 'none: a person must look'}", markup=False)
    for error in view.errors:
        console.print(f"[red]error[/red] {error.processor} {error.subject}: {error.message}")


@app.command("repair")
def repair(
    account_id: UUID,
    action: Annotated[RepairAction, typer.Argument(case_sensitive=False)],
    reason: Annotated[str, typer.Option(help="Why (recorded on the events)")],
    processor: Annotated[Processor, typer.Option()] = Processor.STRIPE,
    ref: Annotated[str | None, typer.Option(help="detach-method: the processor's ref")] = None,
    method: Annotated[str | None, typer.Option(help="remove-method: the method id")] = None,
    attempt: Annotated[
        str | None,
        typer.Option(help="resolve-attempt, record-refund, record-dispute: the attempt id"),
    ] = None,
    refund: Annotated[str | None, typer.Option(help="record-refund: the processor's id")] = None,
    dispute: Annotated[
        str | None, typer.Option(help="record-dispute: the processor's dispute id")
    ] = None,
    actor: Actor = "",
) -> None:
    """Repair a finding (recorded with the reason), then check the account again."""
    ctx = CommandContext(
        actor_id=actor or "operator",
        actor_kind=ActorKind.SUPPORT,
        surface=Surface.CLI,
        reason=reason,
    )
    cmd = RepairReconciliation(
        account_id=account_id,
        action=action,
        processor=processor,
        method_ref=ref,
        method_id=method,
        attempt_id=attempt,
        refund_id=refund,
        dispute_id=dispute,
    )
    with configured_container() as container:
        outcome, check = repair_and_recheck(container, cmd, ctx)
    console.print(
        f"repaired {outcome.subject}: {outcome.detail} (version {outcome.result.version})"
    )
    left = len(check.findings)
    console.print("in step" if not left and not check.errors else f"{left} findings remain")
