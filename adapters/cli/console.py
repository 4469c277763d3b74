"""`ledger console`: the support console (NinjaPanel, /console/).

    ledger console link PRINCIPAL [--base-url URL]

prints a short-lived, single-use sign-in link for a support principal (one with an active
support key, or the embedded default's development support principal `dev-support-agent`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.keys import known_keys
from adapters.cli.runtime import configured_container
from adapters.http.console.links import NotASupportPrincipal, make_link

app = typer.Typer(no_args_is_help=True, help="The support console (NinjaPanel).")


@app.command("link")
def link(
    principal_id: Annotated[str, typer.Argument(help="the support principal to sign in")],
    base_url: Annotated[
        str | None, typer.Option(help="where browsers reach the API; default LEDGER_CONSOLE_URL")
    ] = None,
    actor: Annotated[str, typer.Option(envvar="USER", help="who makes the link (recorded)")] = "",
) -> None:
    """Print a sign-in link (single use; it expires after LEDGER_CONSOLE_LINK_TTL_S)."""
    with configured_container() as container:
        keys = known_keys(container)
        try:
            made = make_link(container, keys, principal_id, actor or "operator", base_url)
        except NotASupportPrincipal as error:
            typer.echo(f"refused: {error.detail}", err=True)
            raise typer.Exit(code=2) from error
    typer.echo(made.url)
    typer.echo(f"(single use; expires at {made.expires_at.isoformat(timespec='seconds')})")
