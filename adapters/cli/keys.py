"""`ledger keys`: API keys in the `api_keys` table, which every API process reads (a revoked
or expired key stops working within LEDGER_API_KEY_CACHE_S seconds, without a restart).

    ledger keys new PRINCIPAL --kind K [--scope S ...] [--account-id UUID] [--expires-in DAYS]
    ledger keys list
    ledger keys revoke KEY_ID

A new key has no scope unless given one: it can call only the routes that need none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console

from adapters import demo as demo_data
from adapters.bootstrap import Container
from adapters.cli import devkeys
from adapters.cli.runtime import configured_container
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, new_key, read_entries
from adapters.postgres.api_keys import PostgresKeys
from ledger.meta import ActorKind

app = typer.Typer(no_args_is_help=True, help="API keys (stored hashed in PostgreSQL).")
console = Console()
LIST_COLUMNS = ("key_id", "principal", "kind", "scopes", "account", "created", "expires", "state")
KINDS = (ActorKind.CUSTOMER, ActorKind.SERVICE, ActorKind.SUPPORT)


def for_serving(container: Container) -> ApiKeys:
    """What `ledger serve` authenticates against: the keys table, plus the entries of
    LEDGER_API_KEYS_FILE when set, or else (embedded default only) the development keys,
    printed once at start."""
    return known_keys(container, show_dev_keys=True)


def known_keys(container: Container, show_dev_keys: bool = False) -> ApiKeys:
    """The keys table, plus LEDGER_API_KEYS_FILE's entries when set, or else (embedded
    default only) the development keys (printed when `show_dev_keys`)."""
    settings = container.settings
    fixed: list[ApiKeyEntry] = []
    if settings.api_keys_file:
        fixed = read_entries(settings.api_keys_file)
    elif settings.embedded:
        dev, plain = devkeys.load_or_create(settings.data_dir, demo_data.first_demo_account())
        fixed = dev
        if show_dev_keys:
            typer.echo("development API keys (embedded default only):")
            for name, key in plain.items():
                typer.echo(f"  {name:9} Authorization: Bearer {key}")
    directory = PostgresKeys(container.connection)
    return ApiKeys(fixed, directory, cache_s=settings.api_key_cache_s)


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"refused: {message}", err=True)
    return typer.Exit(code=2)


@app.command("new")
def new(
    principal_id: Annotated[str, typer.Argument(help="who the key speaks for")],
    kind: Annotated[ActorKind, typer.Option(help="customer, service or support")],
    scope: Annotated[
        list[str] | None, typer.Option(help=f"repeatable; none by default ({', '.join(SCOPES)})")
    ] = None,
    account_id: Annotated[UUID | None, typer.Option(help="customers: their account")] = None,
    expires_in: Annotated[
        int | None, typer.Option(min=1, help="days until the key stops working")
    ] = None,
) -> None:
    """Make an API key: prints it once (only its SHA-256 is kept)."""
    scopes = scope or []
    if unknown := sorted(set(scopes) - set(SCOPES)):
        raise _refuse(f"unknown scope {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    if kind not in KINDS:
        raise _refuse("--kind must be customer, service or support")
    if (kind is ActorKind.CUSTOMER) != (account_id is not None):
        raise _refuse("--account-id is required for a customer key, and only for one")
    expires_at = datetime.now(UTC) + timedelta(days=expires_in) if expires_in else None
    key = new_key(kind)
    with configured_container() as container:
        stored = PostgresKeys(container.connection).create(
            key, principal_id, kind, scopes, account_id, expires_at
        )
    console.print(f"key (shown once): {key}", markup=False, highlight=False)
    console.print(f"key id: {stored.key_id}", markup=False, highlight=False)
    console.print(f"scopes: {' '.join(sorted(stored.scopes)) or '(none)'}", markup=False)
    console.print(f"expires: {stored.expires_at or 'never'}", markup=False)


@app.command("list")
def list_keys() -> None:
    """List every key (never the key itself), one per line, tab-separated: id, principal,
    kind, scopes, account, created, expires, state (active, expired, revoked)."""
    with configured_container() as container:
        keys = PostgresKeys(container.connection).all()
    now = datetime.now(UTC)
    typer.echo("\t".join(LIST_COLUMNS))
    for k in keys:
        row = (
            k.key_id,
            k.id,
            k.kind.value,
            ",".join(sorted(k.scopes)) or "-",
            str(k.account_id or "-"),
            k.created_at.isoformat(timespec="seconds"),
            k.expires_at.isoformat(timespec="seconds") if k.expires_at else "never",
            k.state(now),
        )
        typer.echo("\t".join(row))


@app.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key: every API process refuses it within LEDGER_API_KEY_CACHE_S seconds."""
    with configured_container() as container:
        revoked = PostgresKeys(container.connection).revoke(key_id)
    if revoked is None:
        raise _refuse(f"no key {key_id} (see `ledger keys list`)")
    console.print(f"revoked {key_id} at {revoked.revoked_at}", markup=False)
