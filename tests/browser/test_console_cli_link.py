"""`ledger console link PRINCIPAL`: a support principal of the keys table (`ledger keys
new`) gets a link that opens the console in chromium; a principal whose support keys are
revoked, or a customer, gets none."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from adapters.cli.main import app
from tests.browser.conftest import CUSTOMER, LiveConsole

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
def test_ledger_console_link_signs_a_support_key_holder_in(page: Page, live: LiveConsole) -> None:
    code, made = ledger("keys", "new", "agent-bob", "--kind", "support")
    assert code == 0, made
    code, out = ledger("console", "link", "agent-bob")
    assert code == 0, out
    link = re.search(r"^(http://\S+/console/sign-in\?token=\S+)$", out, re.MULTILINE)
    assert link is not None, out
    assert link.group(1).startswith(live.base_url)
    page.goto(link.group(1))
    expect(page.get_by_test_id("signed-in-as")).to_have_text("agent-bob")


@pytest.mark.usefixtures("cli_env")
def test_no_link_for_a_revoked_support_key_or_a_customer(live: LiveConsole) -> None:
    code, made = ledger("keys", "new", "agent-gone", "--kind", "support")
    assert code == 0, made
    key_id = re.search(r"key_[0-9a-f]{12}", made)
    assert key_id is not None, made
    assert ledger("keys", "revoke", key_id.group(0))[0] == 0
    for principal in ("agent-gone", CUSTOMER, "nobody"):
        code, out = ledger("console", "link", principal)
        assert code == 2
        assert "refused" in out
