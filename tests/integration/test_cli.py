"""The `ledger` CLI against real PostgreSQL."""

from __future__ import annotations

import json
import re
from uuid import UUID

import pytest
from typer.testing import CliRunner

from adapters.cli.main import app
from adapters.http.auth import hash_key

pytestmark = pytest.mark.usefixtures("configured")

runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_operator_opens_updates_closes_and_reads_an_account() -> None:
    out = ok(
        "accounts",
        "open",
        "Ada Lovelace",
        "ada@example.com",
        "GB",
        "GBP",
        "--reason",
        "migrated from legacy",
        "--actor",
        "ops-1",
    )
    match = re.search(r"opened ([0-9a-f-]{36})", out)
    assert match
    account_id = match.group(1)
    ok("accounts", "update", account_id, "--email", "ada@lovelace.org", "--reason", "ticket 9")
    ok("accounts", "close", account_id, "--reason", "customer left")
    ok("projections", "rebuild", "all")
    shown = json.loads(ok("accounts", "show", account_id))
    assert UUID(shown["account_id"]) == UUID(account_id)
    assert (shown["status"], shown["email"], shown["version"]) == ("closed", "ada@lovelace.org", 3)
    assert "accounts" in ok("projections", "status")


def test_a_refused_command_exits_non_zero_with_its_code() -> None:
    result = runner.invoke(
        app, ["accounts", "open", "Ada", "ada@example.com", "XX", "GBP", "--reason", "test"]
    )
    assert result.exit_code == 2
    assert "invalid_profile" in result.output


def test_db_status_and_keys() -> None:
    assert "up to date" in ok("db", "status")
    out = ok("keys", "new", "svc-checkout", "--kind", "service")
    key = re.search(r"key \(shown once\): (\S+)", out)
    assert key
    assert f"key id: key_{hash_key(key.group(1))[:12]}" in out
    assert "scopes: (none)" in out


def test_operators_grant_credit_and_run_billing() -> None:
    out = ok("accounts", "open", "Grace", "grace@example.com", "US", "USD", "--reason", "setup")
    match = re.search(r"opened ([0-9a-f-]{36})", out)
    assert match
    account_id = match.group(1)
    assert "granted" in ok(
        "billing", "grant-credit", account_id, "1500", "USD", "--reason", "outage"
    )
    ok("projections", "rebuild", "accounts")
    assert "accounts=1 renewed=0" in ok("billing", "run")
    refused = runner.invoke(
        app, ["billing", "write-off", account_id, "nope", "--reason", "insolvent"]
    )
    assert refused.exit_code == 2
    assert "no_bad_debt" in refused.output


def test_a_billing_run_with_a_failed_account_exits_non_zero() -> None:
    out = ok("accounts", "open", "Joan", "joan@example.com", "US", "USD", "--reason", "setup")
    match = re.search(r"opened ([0-9a-f-]{36})", out)
    assert match
    missing = "00000000-0000-4000-8000-000000000001"

    result = runner.invoke(
        app, ["billing", "run", "--account", match.group(1), "--account", missing]
    )

    assert result.exit_code == 1, result.output
    assert f"{missing}: AccountNotFound" in result.output
    assert "accounts=2 renewed=0 attempts=0 exhausted=0 errors=1" in result.output
