"""The `ledger` command: run the processes, operate the store, act on accounts."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from adapters import demo as demo_data
from adapters import heap
from adapters.bootstrap import Container, build, resolve_database
from adapters.cli import audit as audit_cli
from adapters.cli import billing as billing_cli
from adapters.cli import clocks as clocks_cli
from adapters.cli import console as console_cli
from adapters.cli import contract as contract_cli
from adapters.cli import devkeys, runtime
from adapters.cli import keys as keys_cli
from adapters.cli import paypal as paypal_cli
from adapters.cli import portal as portal_cli
from adapters.cli import projections as projections_cli
from adapters.cli import reconcile as reconcile_cli
from adapters.cli.exits import LedgerGroup
from adapters.forget import forget, seal_everything
from adapters.http.auth import ApiKeys
from adapters.http.console.links import make_link
from adapters.http.portal.links import make_portal_link
from adapters.logging import configure_logging
from adapters.postgres.migrate import migrate, pending
from adapters.recompute import recompute
from adapters.scheduler import runner as scheduler_runner
from adapters.settings import Settings
from commands import accounts
from commands.customers import sync_configured
from commands.errors import AccountNotFound
from commands.models import CloseAccount, CommandContext, OpenAccount, UpdateProfile
from ledger.errors import NothingToChange
from ledger.meta import ActorKind, Surface
from queries.accounts import get_account, list_accounts

app = typer.Typer(cls=LedgerGroup, no_args_is_help=True, help="Event-sourced billing ledger.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
accounts_app = typer.Typer(no_args_is_help=True, help="Billing accounts.")
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(projections_cli.app, name="projections")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(billing_cli.app, name="billing")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(reconcile_cli.app, name="reconcile")
app.add_typer(paypal_cli.app, name="paypal")
app.add_typer(clocks_cli.app, name="clocks")
app.add_typer(console_cli.app, name="console")
app.add_typer(portal_cli.app, name="portal")
app.add_typer(contract_cli.app, name="contract")
console = Console()

Actor = Annotated[str, typer.Option(envvar="USER", help="Who is acting (recorded)")]
Reason = Annotated[str, typer.Option(help="Why (recorded on the event; required)")]
MetricsPort = Annotated[int | None, typer.Option(help="Serve Prometheus metrics here")]


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.wants_json_logs(), settings.log_level)
    return settings


def _container() -> Container:
    return build(_settings())


def _ctx(actor: str, reason: str) -> CommandContext:
    return CommandContext(
        actor_id=actor or "operator",
        actor_kind=ActorKind.SUPPORT,
        surface=Surface.CLI,
        reason=reason,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    demo: Annotated[bool, typer.Option(help="Seed demo accounts first")] = False,
) -> None:
    """Serve the HTTP API (embedded default: also keep the read models fed from the store)."""
    where = f"http://{host}:{port}"
    with build(_served_at(_settings(), where)) as container:
        keys = _api_keys(container)
        if demo:
            demo_data.seed(container)
        typer.echo(f"ledger API on {where} (docs: {where}/docs)")
        if container.simulated is not None:
            typer.echo(SIMULATED_NOTICE)
        if container.settings.embedded:
            _print_console_link(container, keys, container.settings.console_url)
            _print_portal_link(container, container.settings.console_url)
        if container.settings.embedded or not container.settings.kafka_bootstrap:
            typer.echo(f"data in {container.settings.data_dir}; read models fed from the store")
            with runtime.store_feed(container) as feed, _scheduled(container):
                runtime.serve_http(container, keys, host, port, feed)
        else:
            runtime.serve_http(container, keys, host, port)


def _scheduled(container: Container) -> AbstractContextManager[Any]:
    """The embedded default runs the scheduled jobs in process (LEDGER_SCHEDULER_IN_PROCESS);
    with a configured database, `ledger scheduler` runs them."""
    if container.settings.embedded and container.settings.scheduler_in_process:
        typer.echo("scheduled jobs run in this process (LEDGER_SCHEDULER_IN_PROCESS=false: off)")
        return scheduler_runner.in_background(container)
    return nullcontext()


def _served_at(settings: Settings, where: str) -> Settings:
    """Links the ledger makes (sign-in, billing pages, the payment page and its return) point
    at where it serves unless LEDGER_CONSOLE_URL says where browsers reach it: a redirect to
    another port is another origin, which the pages' CSP (form-action 'self') blocks."""
    if "console_url" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"console_url": where})


DEMO_CARD = "4242 4242 4242 4242 with any future expiry and CVC"
SIMULATED_NOTICE = (
    "payments: SIMULATED processor (Stripe test-mode cards, sandbox PayPal; no money moves;"
    " set LEDGER_STRIPE_API_KEY / LEDGER_BRAINTREE_* for real ones)"
)


def _print_console_link(container: Container, keys: ApiKeys, where: str) -> None:
    """The embedded default's support console, signed in as its development support
    principal (single use: `ledger console link dev-support-agent` makes another)."""
    made = make_link(container, keys, devkeys.SUPPORT_PRINCIPAL, "ledger serve", where)
    typer.echo(f"support console (NinjaPanel), single-use sign-in link: {made.url}")


def _print_portal_link(container: Container, where: str) -> None:
    """The billing pages of the demo account in bad debt, as its customer (single use:
    `ledger portal link ACCOUNT_ID` makes another, for any account)."""
    account_id, account = demo_data.billing_demo_account()
    try:
        made = make_portal_link(container, account_id, "ledger serve", None, where)
    except AccountNotFound:
        typer.echo("customer billing pages: `ledger portal link ACCOUNT_ID` (no demo account yet)")
        return
    typer.echo(
        f"customer billing pages of {account.name} (demo account in bad debt: add the card"
        f" {DEMO_CARD} and pay), single-use link: {made.url}"
    )


def _api_keys(container: Container) -> ApiKeys:
    return keys_cli.for_serving(container)


@app.command()
def demo() -> None:
    """Build the demo accounts on the simulated processor and a test clock (idempotent)."""
    with _container() as container:
        report = demo_data.seed(container)
        fresh = sum(not r.replayed for r in report.opened)
        console.print(
            f"{fresh} demo accounts opened, {len(report.opened) - fresh} already there;"
            f" {report.recorded} commands recorded, clock walked {report.walked_days} days"
        )
        _print_accounts(container)


@app.command()
def relay(metrics_port: MetricsPort = None) -> None:
    """Publish the event store to Kafka (one relay at a time)."""
    with _container() as container:
        runtime.serve_metrics(metrics_port, container)
        runtime.run_relay(container)


@app.command()
def scheduler(metrics_port: MetricsPort = None) -> None:
    """Run the billing run, the in-flight janitor, credit expiry and reconciliation of
    recently active accounts on their schedules (one active across processes; others
    stand by and take over)."""
    with _container() as container:
        runtime.serve_metrics(metrics_port)
        heap.settle()
        scheduler_runner.run_until_signalled(container)


@app.command("ensure-topic")
def ensure_topic() -> None:
    """Create the event topic with its settings (idempotent; the relay does it at start)."""
    settings = _settings()
    outcome = runtime.ensure_event_topic(settings)
    console.print(f"topic {settings.topic}: {outcome}")


@app.command()
def project(
    metrics_port: MetricsPort = None,
    projection: Annotated[list[str] | None, typer.Option(help="Only these")] = None,
) -> None:
    """Consume Kafka into the read models."""
    with _container() as container:
        runtime.serve_metrics(metrics_port, container)
        runtime.run_projector(container, projection or [])


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations."""
    applied = migrate(resolve_database(_settings()))
    console.print(f"applied {applied}" if applied else "schema is up to date")


@db_app.command("status")
def db_status() -> None:
    """List pending schema migrations."""
    missing = pending(resolve_database(_settings()))
    console.print(f"pending: {missing}" if missing else "schema is up to date")


@accounts_app.command("open")
def accounts_open(
    name: str, email: str, country: str, currency: str, reason: Reason, actor: Actor = ""
) -> None:
    """Open a billing account."""
    cmd = OpenAccount(name=name, email=email, country=country, currency=currency)
    ctx = _ctx(actor, reason)
    with _container() as container:
        result = accounts.open_account(container.deps, cmd, ctx)
        console.print(f"opened {result.account_id} (position {result.position})")
        _print_sync(sync_configured(container.deps, result.account_id, ctx))


@accounts_app.command("update")
def accounts_update(
    account_id: UUID,
    reason: Reason,
    actor: Actor = "",
    name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option()] = None,
    currency: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Change a billing profile."""
    cmd = UpdateProfile(
        account_id=account_id, name=name, email=email, country=country, currency=currency
    )
    ctx = _ctx(actor, reason)
    with _container() as container:
        result = accounts.update_profile(container.deps, cmd, ctx)
        console.print(f"updated {account_id} to version {result.version}")
        _print_sync(sync_configured(container.deps, account_id, ctx))


def _print_sync(outcome: dict[str, str]) -> None:
    for processor, action in outcome.items():
        console.print(f"{processor} customer: {action}")


@accounts_app.command("close")
def accounts_close(account_id: UUID, reason: Reason, actor: Actor = "") -> None:
    """Close an account."""
    cmd = CloseAccount(account_id=account_id)
    ctx = _ctx(actor, reason)
    with _container() as container:
        result = accounts.close_account(container.deps, cmd, ctx)
        console.print(f"closed {account_id} at version {result.version}")


@accounts_app.command("recompute")
def accounts_recompute(account_id: UUID, reason: Reason, actor: Actor = "") -> None:
    """Recompute one account's read models from its events (records who and why)."""
    ctx = _ctx(actor, reason)
    with _container() as container:
        result, changes = recompute(container, account_id, ctx)
        console.print(f"recomputed {account_id} at version {result.version}")
        for name, change in changes.items():
            if not change.changed:
                console.print(f"  {name}: unchanged")
                continue
            console.print(f"  {name}: changed")
            for field in sorted(change.before.keys() | change.after.keys()):
                old, new = change.before.get(field, "-"), change.after.get(field, "-")
                console.print(f"    {field}: {old} -> {new}", markup=False, highlight=False)


@accounts_app.command("forget")
def accounts_forget(account_id: UUID, reason: Reason, actor: Actor = "") -> None:
    """Forget an account's personal data: record AccountForgotten, destroy its data key."""
    ctx = _ctx(actor, reason)
    with _container() as container:
        try:
            result = forget(container, account_id, ctx)
        except NothingToChange:
            console.print(f"{account_id} was forgotten already (its key is destroyed)")
            return
        console.print(f"forgot {account_id} at version {result.version}")


@accounts_app.command("encrypt-personal-data")
def accounts_encrypt_personal_data() -> None:
    """Seal the personal fields of events stored in clear (before sealing existed), once."""
    with _container() as container:
        accounts_seen = events = 0
        for _, changed in seal_everything(container):
            accounts_seen += 1
            events += changed
        console.print(f"sealed {events} events of {accounts_seen} accounts")


@accounts_app.command("show")
def accounts_show(account_id: UUID) -> None:
    """Show one account from the read model."""
    with _container() as container:
        with container.connection() as conn:
            view = get_account(conn, account_id)
        if view is None:
            console.print("[red]no such account[/red]")
            raise typer.Exit(code=1)
        console.print_json(view.model_dump_json())


@accounts_app.command("list")
def accounts_list(limit: int = 20) -> None:
    """List the newest accounts."""
    with _container() as container:
        _print_accounts(container, limit)


def _print_accounts(container: Container, limit: int = 20) -> None:
    table = Table("account", "name", "email", "country", "currency", "status", "version")
    with container.connection() as conn:
        for a in list_accounts(conn, limit):
            table.add_row(
                str(a.account_id), a.name, a.email, a.country, a.currency, a.status, str(a.version)
            )
    console.print(table)
