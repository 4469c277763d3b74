"""`ledger portal link ACCOUNT_ID`: a URL that opens the account's billing pages in
chromium, once; an unknown account or a return URL off the allowed origins gets none."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from adapters import demo
from adapters.cli.main import _print_portal_link, app
from commands import accounts
from tests.browser.conftest import LiveConsole
from tests.fakes.billing import usd_account
from tests.fakes.builders import customer_ctx, open_cmd

runner = CliRunner()


@pytest.fixture
def cli_env(live: LiveConsole, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", str(live.container.settings.database_url))
    monkeypatch.setenv("LEDGER_CONSOLE_URL", live.base_url)
    monkeypatch.setenv("LEDGER_LOG_JSON", "true")


def ledger(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.usefixtures("cli_env")
def test_ledger_portal_link_opens_the_account_billing_pages(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    live.caught_up()
    code, out = ledger("portal", "link", str(account_id))
    assert code == 0, out
    link = re.search(r"^(http://\S+/billing/session\?token=\S+)$", out, re.MULTILINE)
    assert link is not None, out
    assert link.group(1).startswith(live.base_url)
    page.goto(link.group(1))
    expect(page.get_by_test_id("customer-name")).to_have_text("Ada Lovelace")


@pytest.mark.usefixtures("cli_env")
def test_no_link_for_an_unknown_account_or_a_return_url_elsewhere(live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    for args in (
        (str(uuid4()),),
        (str(account_id), "--return-url", "https://evil.test/"),
    ):
        code, out = ledger("portal", "link", *args)
        assert code == 2, out
        assert "refused" in out


def test_serve_prints_a_link_to_the_billing_pages_of_the_demo_account_in_bad_debt(
    page: Page, live: LiveConsole, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `ledger serve` prints on the embedded default after the console's link (the
    demo's account in bad debt, opened here by the demo's own command id; the whole journey
    on a real `ledger serve --demo` is tests/browser/test_portal_embedded.py)."""
    deps = live.container.deps
    index = next(i for i, a in enumerate(demo.DEMO_ACCOUNTS) if a.story is demo.Story.BAD_DEBT)
    demo_account = accounts.open_account(
        deps, open_cmd(), customer_ctx(command_id=demo.demo_command_id(index))
    ).account_id
    assert demo_account == demo.billing_demo_account()[0]
    live.caught_up()
    _print_portal_link(live.container, live.base_url)
    printed = capsys.readouterr().out
    assert "add the card 4242 4242 4242 4242 with any future expiry and CVC and pay" in printed
    link = re.search(r"single-use link: (http://\S+/billing/session\?token=\S+)$", printed)
    assert link is not None
    page.goto(link.group(1))
    expect(page.get_by_test_id("customer-name")).to_have_text("Ada Lovelace")
