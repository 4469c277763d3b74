"""`ledger portal`: the customer's billing pages (/billing/).

    ledger portal link ACCOUNT_ID [--return-url URL] [--base-url URL]

prints a short-lived, single-use URL that opens the billing pages on the account, as its
customer (what POST /internal/accounts/{id}/billing-portal-sessions answers the Dashboard).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from adapters.cli.runtime import configured_container
from adapters.http.portal.links import make_portal_link
from adapters.http.return_urls import ReturnUrlNotAllowed
from commands.errors import AccountNotFound

app = typer.Typer(no_args_is_help=True, help="The customer's billing pages (/billing/).")


@app.command("link")
def link(
    account_id: Annotated[UUID, typer.Argument(help="the account whose billing pages to open")],
    return_url: Annotated[
        str | None, typer.Option(help="where the pages send the customer back (allowed origin)")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="where browsers reach the API; default LEDGER_CONSOLE_URL")
    ] = None,
    actor: Annotated[str, typer.Option(envvar="USER", help="who makes the link (recorded)")] = "",
) -> None:
    """Print a billing portal URL (single use; it expires after LEDGER_PORTAL_LINK_TTL_S)."""
    with configured_container() as container:
        try:
            made = make_portal_link(
                container, account_id, actor or "operator", return_url, base_url
            )
        except (AccountNotFound, ReturnUrlNotAllowed) as error:
            typer.echo(f"refused: {error.detail}", err=True)
            raise typer.Exit(code=2) from error
    typer.echo(made.url)
    typer.echo(f"(single use; expires at {made.expires_at.isoformat(timespec='seconds')})")
