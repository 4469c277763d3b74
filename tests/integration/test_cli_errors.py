"""Bad input to the `ledger` CLI: one line on stderr, exit 2, never a traceback; an
unreachable database: one line, exit 1; required options are marked required."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import typer
from typer.testing import CliRunner, Result

from adapters.cli.main import app
from tests.harness import free_port

pytestmark = pytest.mark.usefixtures("configured")

runner = CliRunner()
LEDGER = Path(sys.executable).parent / "ledger"


def refused(*args: str, code: int = 2) -> str:
    """Runs the command; it must exit `code` with exactly one line on stderr, nothing else."""
    result: Result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def open_account() -> str:
    result = runner.invoke(
        app, ["accounts", "open", "Ada", "ada@example.com", "GB", "GBP", "--reason", "setup"]
    )
    assert result.exit_code == 0, result.output
    match = re.search(r"opened ([0-9a-f-]{36})", result.stdout)
    assert match
    return match.group(1)


def test_a_value_the_command_model_rejects_is_one_line_and_exit_2() -> None:
    line = refused("accounts", "open", "Ada", "not-an-email", "GB", "GBP", "--reason", "r")
    assert line.startswith("invalid input: email: value is not a valid email address")


def test_every_field_error_is_on_the_same_line() -> None:
    line = refused("accounts", "open", "", "not-an-email", "GB", "GBP", "--reason", "r")
    assert line.startswith("invalid input: ")
    assert "name:" in line
    assert "email:" in line


def test_a_blank_reason_is_refused_as_input() -> None:
    line = refused("accounts", "open", "Ada", "ada@example.com", "GB", "GBP", "--reason", " ")
    assert line.startswith("invalid input: reason:")


def test_commands_of_other_groups_refuse_the_same_way() -> None:
    account_id = open_account()
    line = refused("billing", "grant-credit", account_id, "0", "GBP", "--reason", "r")
    assert line.startswith("invalid input: amount:")
    line = refused("billing", "grant-credit", account_id, "100", "pounds", "--reason", "r")
    assert line.startswith("invalid input: currency:")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["accounts", "open", "Ada", "ada@example.com", "XX", "GBP"], "invalid_profile"),
        (["accounts", "update", "{account}"], "nothing_to_change"),
        (["accounts", "close", str(uuid4())], "account_not_found"),
        (["billing", "write-off", "{account}", "inv-none"], "no_bad_debt"),
    ],
)
def test_a_domain_refusal_is_one_line_with_its_code_and_exit_2(args: list[str], code: str) -> None:
    account_id = open_account()
    words = [a.replace("{account}", account_id) for a in args]
    line = refused(*words, "--reason", "ticket 9")
    assert line.startswith(f"refused {code}: ")


def test_a_bad_setting_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_POOL_SIZE", "many")
    assert refused("db", "status").startswith("invalid input: pool_size:")


def test_an_unreachable_database_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    line = refused("accounts", "list", code=1)
    assert line.startswith("error: database unavailable: ")


def test_the_installed_program_prints_no_traceback(database_url: str) -> None:
    env = {**os.environ, "LEDGER_DATABASE_URL": database_url, "LEDGER_LOG_JSON": "true"}
    args = ["accounts", "open", "Ada", "not-an-email", "GB", "GBP", "--reason", "r"]
    done = subprocess.run(
        [str(LEDGER), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("invalid input: email:")


def all_commands() -> Iterator[tuple[str, Any]]:
    """Every command of the tree typer builds (its own vendored click classes)."""

    def walk(prefix: str, command: Any) -> Iterator[tuple[str, Any]]:
        yield prefix, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(f"{prefix} {name}", sub)

    yield from walk("ledger", typer.main.get_command(app))


def test_every_reason_option_is_required_or_has_a_default() -> None:
    checked = 0
    for path, command in all_commands():
        for param in command.params:
            if param.param_type_name == "option" and "--reason" in param.opts:
                checked += 1
                assert param.required or param.default, f"{path}: --reason is optional"
    assert checked >= 10


def test_an_option_whose_help_says_required_is_required() -> None:
    for path, command in all_commands():
        for param in command.params:
            help_text = getattr(param, "help", None) or ""
            if "required" in help_text.lower():
                assert param.required, f"{path} {param.name}: help says required, it is not"


def test_help_marks_required_options() -> None:
    result = runner.invoke(app, ["reconcile", "repair", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    [reason] = [line for line in result.stdout.splitlines() if "--reason" in line]
    assert "[required]" in reason
    missing = runner.invoke(app, ["reconcile", "repair", str(uuid4()), "push-customer"])
    assert missing.exit_code == 2
    assert "Missing option '--reason'" in missing.output


def test_an_unreachable_kafka_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["ensure-topic"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    # aiokafka may log its failed connection first; the ledger's answer is the last line.
    assert result.stderr.splitlines()[-1].startswith("error: Kafka unavailable: ")
