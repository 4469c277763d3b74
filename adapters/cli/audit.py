"""`ledger audit`: check the tamper-evident chain of the event store."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from adapters.bootstrap import build
from adapters.logging import configure_logging
from adapters.postgres.audit import VerifyReport, verify
from adapters.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Audit trail.")
console = Console()


@app.command("verify")
def audit_verify(
    account: Annotated[UUID | None, typer.Option(help="Only this account's stream")] = None,
) -> None:
    """Recompute the hash chain; exit 1 at the first broken link."""
    settings = Settings()
    configure_logging(settings.wants_json_logs(), settings.log_level)
    with build(settings) as container, container.connection() as conn:
        total = _count(conn, account)
        with _progress() as bar:
            task = bar.add_task("verifying", total=total or 1)
            report = verify(conn, account, lambda done: bar.update(task, completed=done))
    _print(report)
    if not report.ok:
        raise typer.Exit(code=1)


def _count(conn: object, account: UUID | None) -> int:
    sql = "SELECT count(*) FROM ledger_events WHERE (%s::uuid IS NULL OR originator_id = %s)"
    row = conn.execute(sql, (account, account)).fetchone()  # type: ignore[attr-defined]
    return int(row[0]) if row else 0


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} events"),
        TimeRemainingColumn(),
        console=console,
    )


def _print(report: VerifyReport) -> None:
    counts = f"{report.streams} streams, {report.events} events, {report.verified} links verified"
    if report.ok:
        console.print(f"[green]audit chain intact[/green]: {counts}")
        return
    console.print(f"[red]audit chain broken[/red]: {report.broken[0].describe()}", soft_wrap=True)
    console.print(f"{len(report.broken)} broken stream(s); {counts}")
