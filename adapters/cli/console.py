"""`ledger console`: the support console (NinjaPanel, /console/).

    ledger console link PRINCIPAL [--base-url URL]

prints a short-lived, single-use sign-in link for a support principal (one with an active
support key, or the embedded default's development support principal `dev-support-agent`).

    ledger console screenshots [--out docs/screenshots] [--width W] [--height H]

saves PNGs of the console's main pages on the demo (adapters/cli/screenshots.py; development
environment only).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from adapters import demo
from adapters.bootstrap import Container, build
from adapters.cli import devkeys
from adapters.cli import screenshots as shots
from adapters.cli.keys import known_keys
from adapters.cli.runtime import configured_container
from adapters.http.app import create_app
from adapters.http.console.links import NotASupportPrincipal, make_link
from adapters.http.portal.links import make_portal_link
from adapters.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser  # a dev dependency: the screenshots only

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


@app.command("screenshots")
def screenshots(
    out: Annotated[Path, typer.Option(help="where the PNGs go")] = Path("docs/screenshots"),
    width: Annotated[int, typer.Option(min=320, help="viewport width, px")] = 1280,
    height: Annotated[int, typer.Option(min=240, help="viewport height, px")] = 800,
) -> None:
    """Save PNGs of the console's main pages on the demo data (the README's pictures).

    DEVELOPMENT ENVIRONMENT ONLY: Playwright is a dev dependency (`uv sync`), and
    scripts/setup-services installs Debian's chromium and the CJK fonts.

    It starts the ledger on the embedded default in a fresh temporary data directory (yours is
    not touched), builds the demo (about 30 s), signs in with a link and saves one PNG a page,
    optimised with optipng when it is on PATH. Slow: not run in CI."""
    data_dir = Path(tempfile.mkdtemp(prefix="ledger-screenshots-"))
    # Removed at exit, after the embedded server (registered later, so stopped first) stops.
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    try:
        with shots.chromium() as browser, build(_embedded_demo(data_dir)) as container:
            typer.echo("building the demo in a fresh embedded ledger ...")
            demo.seed(container)
            saved = _shoot(container, browser, out, (width, height))
    except shots.CannotShoot as error:
        typer.echo(f"cannot take screenshots: {error}", err=True)
        raise typer.Exit(code=2) from error
    for path in saved:
        typer.echo(str(path))


def _embedded_demo(data_dir: Path) -> Settings:
    """The embedded default on the simulated processor, whatever the environment says."""
    return Settings(
        data_dir=data_dir,
        database_url=None,
        kafka_bootstrap=None,
        redis_url=None,
        api_keys_file=None,
        stripe_api_key=None,
        braintree_merchant_id=None,
        simulated_processor=True,
        environment="development",
    )


def _shoot(
    container: Container, browser: Browser, out: Path, viewport: tuple[int, int]
) -> list[Path]:
    keys = known_keys(container)
    port = shots.free_port()
    base_url = f"http://127.0.0.1:{port}"
    with shots.serving(create_app(container, keys), port):
        link = make_link(container, keys, devkeys.SUPPORT_PRINCIPAL, "screenshots", base_url)
        accounts = shots.story_accounts()

        def billing_link(account_id: UUID) -> str:
            return make_portal_link(container, account_id, "screenshots", base_url=base_url).url

        return shots.shoot(
            browser, base_url, link.url, shots.SHOTS, out, accounts, viewport, billing_link
        )
