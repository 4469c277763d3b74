"""Screenshots of the support console's main pages on the demo, for the README
(`ledger console screenshots`): the ledger on the embedded default in a fresh data directory,
the demo built through the commands, the app served on a loopback port, a sign-in link
opened in Debian's chromium driven by Playwright, and one PNG per row of `SHOTS`.

Playwright is a dev dependency (the tests use it): this runs in the development environment
(`uv sync`, `scripts/setup-services` for chromium and the CJK fonts), never in the image."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import uvicorn
from fastapi import FastAPI

from adapters import demo

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@dataclass(frozen=True)
class Shot:
    """One page: its file name (without .png), its path (`{story}` names the first demo
    account of that story, e.g. `{bad_debt}`), what it shows (the README's alt text), and
    whether the whole page is taken (else the viewport only)."""

    name: str
    path: str
    shows: str
    whole: bool = False
    billing_of: str | None = None  # a story: the page is that account's billing page
    then_click: str | None = None  # a link's name on `path`, followed before the picture


# One row a page; a page added later is one more row.
SHOTS: tuple[Shot, ...] = (
    Shot(
        "search",
        "/console/?q=example",
        "Find an account: the demo's accounts, names in Latin, Cyrillic, Arabic and Chinese",
        whole=True,
    ),
    Shot("account-bad-debt", "/console/accounts/{bad_debt}", "An account in bad debt"),
    Shot(
        "invoices-recovered",
        "/console/accounts/{recovered}?status=recovered",
        "A recovered invoice: marked uncollectible, then paid (both dates)",
        whole=True,
    ),
    Shot("account-stuck", "/console/accounts/{stuck}", "A stuck account: a payment in flight"),
    Shot(
        "account-credits",
        "/console/accounts/{credits}",
        "An account with credits: subscriptions, methods, credits granted and used",
        whole=True,
    ),
    Shot(
        "history",
        "/console/accounts/{recovered}/history",
        "History: who, surface, why, request and hash of each event, in words",
    ),
    Shot(
        "as-of",
        "/console/accounts/{recovered}/as-of?version=8",
        "The account as of one event of its history",
    ),
    Shot(
        "action-pay-bad-debt",
        "/console/accounts/{bad_debt}/actions/pay-bad-debt",
        "Pay bad debt: choose the invoices and the method, with a reason",
    ),
    Shot(
        "fleet",
        "/console/fleet",
        "The fleet: health states, stuck accounts, bad debt, projection lag",
        whole=True,
    ),
    Shot(
        "billing-overview",
        "/billing/",
        "A customer's billing overview: plan, next renewal, payment method",
        billing_of="paying",
    ),
    Shot(
        "billing-bad-debt",
        "/billing/",
        "A customer in bad debt: the amount and Pay now",
        billing_of="bad_debt",
    ),
    Shot(
        "billing-invoices",
        "/billing/invoices",
        "A customer's invoices: the recovered one reads paid, once, with when it was unpaid",
        whole=True,
        billing_of="recovered",
    ),
    Shot(
        "billing-methods",
        "/billing/payment-methods",
        "A customer's payment methods",
        billing_of="credits",
    ),
    Shot(
        "billing-paypal",
        "/billing/",
        "A customer paying by PayPal: each plan invoiced, then collected from PayPal",
        billing_of="paypal",
    ),
    Shot(
        "billing-authenticate",
        "/billing/",
        "A payment waiting for the customer's bank (3-D Secure), from the overview's banner",
        billing_of="three_ds",
        then_click="Authenticate",
    ),
)
CHROMIUM_ARGS = (  # as tests/harness/chromium.py launches it
    "--no-sandbox",  # as root, chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
)


class CannotShoot(Exception):
    """What is missing to take screenshots, in words."""


def story_accounts() -> dict[str, UUID]:
    """The first demo account of each story, by the story's name."""
    ids = demo.demo_account_ids()
    found: dict[str, UUID] = {}
    for index, account in enumerate(demo.DEMO_ACCOUNTS):
        found.setdefault(account.story.value, ids[index])
    return found


def shoot(
    browser: Browser,
    base_url: str,
    sign_in_url: str,
    shots: Sequence[Shot],
    out: Path,
    accounts: Mapping[str, UUID],
    viewport: tuple[int, int] = (1280, 800),
    billing_link: Callable[[UUID], str] | None = None,
) -> list[Path]:
    """Signs in with the link, then saves each page as `out/NAME.png` (a fixed viewport
    width; the viewport's height unless the shot takes the whole page), optimised with
    optipng when it is on PATH. A billing page is opened first with `billing_link` (a
    portal link for its story's account)."""
    out.mkdir(parents=True, exist_ok=True)
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(sign_in_url)
        saved = []
        for shot in shots:
            if shot.billing_of is not None:
                if billing_link is None:
                    raise CannotShoot(f"{shot.name} is a billing page: give a billing_link")
                page.goto(billing_link(accounts[shot.billing_of]))
            page.goto(base_url + shot.path.format(**accounts))
            if shot.then_click is not None:
                page.get_by_role("link", name=shot.then_click).first.click()
                page.wait_for_load_state()
            target = out / f"{shot.name}.png"
            page.screenshot(path=str(target), full_page=shot.whole)
            _optimise(target)
            saved.append(target)
        return saved
    finally:
        context.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright (a dev dependency)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise CannotShoot(
            "Playwright is not installed: it is a dev dependency (run `uv sync` in a clone)"
        ) from error
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise CannotShoot("chromium is not on PATH: run scripts/setup-services")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI, port: int) -> Iterator[None]:
    """uvicorn on a loopback port, in a thread, until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, name="screenshots-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise CannotShoot(f"the ledger did not start on port {port}")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _optimise(png: Path) -> None:
    optipng = shutil.which("optipng")
    if optipng is not None:
        subprocess.run([optipng, "-quiet", "-o2", str(png)], check=True, timeout=120)
