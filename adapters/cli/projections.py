"""`ledger projections ...`: rebuild read models through a shadow schema, and their status."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from adapters.bootstrap import Container
from adapters.cli.runtime import configured_container
from adapters.kafka.groups import GroupStatus, describe_groups
from adapters.kafka.projector import group_id
from adapters.readiness import statuses
from ledger.errors import DomainError
from projections import rebuild as rebuilds
from projections.base import Projection
from projections.runtime import retry_parked
from queries.projections import ProjectionStatus, poisoned_events

app = typer.Typer(no_args_is_help=True, help="Read models.")
poisoned = typer.Typer(
    no_args_is_help=True, help="Streams parked on an event a projection could not apply."
)
app.add_typer(poisoned, name="poisoned")
console = Console()


class RateColumn(ProgressColumn):
    """Events per second, as rich measures it over the last updates."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} ev/s" if task.speed else "- ev/s", style="progress.data")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
    )


@app.command("rebuild")
def rebuild(
    name: Annotated[str, typer.Argument(help="a projection or 'all'")],
    fresh: Annotated[bool, typer.Option(help="Discard an interrupted rebuild's shadow")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
) -> None:
    """Rebuild into a shadow schema, compare with the live model, swap what differs."""
    with configured_container() as container:
        names = list(container.projections) if name == "all" else [name]
        if unknown := [n for n in names if n not in container.projections]:
            raise typer.BadParameter(f"unknown projection {unknown}; {list(container.projections)}")
        for n in names:
            try:
                report = _rebuild_one(container, container.projections[n], fresh, batch_size)
            except DomainError as error:
                console.print(f"[red]{error.code}[/red]: {error}")
                raise typer.Exit(1) from error
            _print_report(report)


def _rebuild_one(
    container: Container, projection: Projection[Any], fresh: bool, batch_size: int
) -> rebuilds.RebuildReport:
    source = container.reader
    with container.connection() as conn, rebuilds.exclusive_rebuild(conn, projection.name):
        conn.commit()  # the session lock stays; no transaction is left open around the work
        head = source.head()
        start = rebuilds.prepare(conn, projection, head, fresh)
        if start:
            console.print(f"{projection.name}: resuming an interrupted rebuild at {start}")
        with _progress() as bar:
            task = bar.add_task(projection.name, total=max(head, 1), completed=start)
            rebuilds.build(
                conn,
                projection,
                source,
                batch_size,
                progress=lambda _n, position: bar.update(task, completed=position),
            )
            bar.update(task, total=max(source.head(), 1), completed=max(source.head(), 1))
        return rebuilds.swap(conn, projection, source, start)


def _print_report(report: rebuilds.RebuildReport) -> None:
    console.print(
        f"{report.projection}: {report.accounts_compared} accounts compared up to position"
        f" {report.position}; {len(report.differences)} replaced in the live model; live"
        f" writers paused {report.paused_s:.2f} s"
    )
    if not report.differences:
        return
    table = Table("account", "kind", "tables", "what changed (live -> rebuilt)")
    for diff in report.differences[: rebuilds.DETAILED_CHANGES]:
        change = report.changes.get(diff.account_id)
        fields = ""
        if change:
            keys = sorted(change.before.keys() | change.after.keys())[:6]
            fields = "; ".join(
                f"{k}: {change.before.get(k)!r} -> {change.after.get(k)!r}" for k in keys
            )
        table.add_row(str(diff.account_id), diff.kind.value, ",".join(diff.tables), fields)
    console.print(table)
    if (more := len(report.differences) - rebuilds.DETAILED_CHANGES) > 0:
        console.print(f"... and {more} more")


@app.command("status")
def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per projection")] = False,
) -> None:
    """Each projection's position, the store's head, lag, consumer group and last rebuild."""
    with configured_container() as container:
        names = list(container.projections)
        groups = _groups(container, [container.projections[n] for n in names])
        statuses = _statuses(container, names)
    if as_json:
        for s in statuses:
            group = groups.get(s.projection)
            doc = {**s.model_dump(mode="json"), "consumer_group": group and asdict(group)}
            typer.echo(json.dumps(doc))
        return
    positions = Table(
        "projection", "position", "store head", "lag", "lag (s)", "last event", "poisoned"
    )
    feeds = Table("projection", "consumer group", "kafka lag", "last rebuild")
    for s in statuses:
        group = groups.get(s.projection)
        positions.add_row(
            s.projection,
            str(s.max_position),
            str(s.store_head),
            str(s.lag_events),
            f"{s.lag_seconds:.1f}",
            f"{s.last_event_at:%Y-%m-%d %H:%M:%S}" if s.last_event_at else "-",
            str(s.poisoned),
        )
        feeds.add_row(
            s.projection, _group_text(group), str(group.lag) if group else "-", _rebuild_text(s)
        )
    console.print(positions)
    console.print(feeds)


def _statuses(container: Container, names: list[str]) -> list[ProjectionStatus]:
    return statuses(container, datetime.now(UTC), names)


def _groups(container: Container, projections: list[Projection[Any]]) -> dict[str, GroupStatus]:
    settings = container.settings
    if not settings.kafka_bootstrap:
        return {}  # embedded: the store feed, no consumer groups
    ids = {group_id(p): p.name for p in projections}
    found = describe_groups(settings.kafka_bootstrap, settings.topic, list(ids))
    return {ids[g]: status for g, status in found.items()}


def _group_text(group: GroupStatus | None) -> str:
    if group is None:
        return "- (store feed)"
    return f"{group.state} ({group.members} members)"


def _rebuild_text(s: ProjectionStatus) -> str:
    r = s.rebuild
    if r is None:
        return "-"
    if r.phase == "building":
        return f"building since {r.started_at:%Y-%m-%d %H:%M:%S} (resumable)"
    return (
        f"swapped {r.swapped_at:%Y-%m-%d %H:%M:%S} at {r.swapped_position}:"
        f" {r.accounts_changed}/{r.accounts_compared} replaced"
    )


ProjectionOption = Annotated[
    str | None, typer.Option("--projection", help="Only this projection's parked streams")
]
AccountOption = Annotated[UUID | None, typer.Option("--account", help="Only this account")]


@poisoned.command("list")
def poisoned_list(
    projection: ProjectionOption = None,
    account: AccountOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Every parked stream: the event it stopped at, the error, the retries so far."""
    with configured_container() as container:
        _known(container, projection)
        with container.connection() as conn:
            found = poisoned_events(conn, projection, account)
    if as_json:
        for event in found:
            typer.echo(event.model_dump_json())
        return
    if not found:
        console.print("no poisoned events")
        return
    table = Table("projection")
    table.add_column("account", no_wrap=True)
    for heading in ("version", "position", "event", "attempts", "first seen", "error"):
        table.add_column(heading)
    for e in found:
        table.add_row(
            e.projection,
            str(e.stream_id),
            str(e.version),
            str(e.position),
            e.event_type,
            str(e.attempts),
            f"{e.first_seen_at:%Y-%m-%d %H:%M:%S}",
            escape(e.error),
        )
    console.print(table)


@poisoned.command("retry")
def poisoned_retry(projection: ProjectionOption = None, account: AccountOption = None) -> None:
    """After a fix: apply each parked event and every event behind it, in order, from the
    store. A stream that fails again stays parked (attempts and error updated); exit 1."""
    with configured_container() as container:
        _known(container, projection)
        chosen = [p for n, p in container.projections.items() if projection in (None, n)]
        with container.connection() as conn:
            outcomes = retry_parked(conn, chosen, container.reader, account)
    for o in outcomes:
        if o.resolved:
            console.print(f"{o.projection} {o.stream_id}: applied {o.applied} events, resolved")
        else:
            console.print(
                f"[red]{o.projection} {o.stream_id}: still parked at version {o.stopped_at}"
                f"[/red] ({o.applied} applied): {escape(o.error or '')}"
            )
    console.print(f"{sum(o.resolved for o in outcomes)}/{len(outcomes)} parked streams resolved")
    if not all(o.resolved for o in outcomes):
        raise typer.Exit(1)


def _known(container: Container, projection: str | None) -> None:
    if projection is not None and projection not in container.projections:
        raise typer.BadParameter(f"unknown projection {projection}; {list(container.projections)}")
