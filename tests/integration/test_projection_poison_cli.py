"""`ledger projections poisoned list|retry` and the poisoned count in `projections status`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.main import app
from tests.integration.test_projection_feed import table_rows
from tests.integration.test_projection_poison import (
    NUL_NAME,
    feed_all,
    inject_profile,
    nul_free_fold,
    open_accounts,
)

runner = CliRunner()


def ledger(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_an_operator_lists_retries_after_the_fix_and_sees_the_count_in_status(
    container: Container, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_LOG_JSON", "true")
    ids = open_accounts(container, 5)
    bad = ids[2]
    inject_profile(container, bad, NUL_NAME)
    feed_all(container)

    [listed] = lines(ledger("projections", "poisoned", "list", "--json"))
    assert (listed["projection"], listed["stream_id"], listed["version"]) == (
        "accounts",
        str(bad),
        2,
    )
    assert listed["event_type"] == "AccountProfileUpdated"
    assert listed["attempts"] == 1
    assert str(bad) in ledger("projections", "poisoned", "list")
    assert (
        lines(ledger("projections", "poisoned", "list", "--json", "--projection", "health")) == []
    )
    statuses = {s["projection"]: s for s in lines(ledger("projections", "status", "--json"))}
    assert (statuses["accounts"]["poisoned"], statuses["health"]["poisoned"]) == (1, 0)

    still = ledger("projections", "poisoned", "retry", "--account", str(bad), code=1)
    assert "still parked at version 2" in still
    [again] = lines(ledger("projections", "poisoned", "list", "--json"))
    assert again["attempts"] == 2

    nul_free_fold(monkeypatch)  # the fix, deployed
    done = ledger("projections", "poisoned", "retry", "--projection", "accounts")
    assert "1/1 parked streams resolved" in done
    assert lines(ledger("projections", "poisoned", "list", "--json")) == []
    assert table_rows(container)[bad].name == "AliceAcme"
    statuses = {s["projection"]: s for s in lines(ledger("projections", "status", "--json"))}
    assert statuses["accounts"]["poisoned"] == 0


def test_an_unknown_projection_is_refused() -> None:
    result = runner.invoke(app, ["projections", "poisoned", "list", "--projection", "nope"])
    assert result.exit_code == 2
    assert "unknown projection" in result.output
