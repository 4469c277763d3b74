"""The compatibility policy (docs/contract/COMPATIBILITY.md), enforced: a published schema of
a version may gain fields or narrow a type, never lose, rename, retype or widen one; the code
may not change a committed schema in a breaking way, nor can any revision in git's history
have done so; the generator refuses to write such a change."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.cli.contract import app as contract_app
from adapters.contract.compatibility import breaking_changes
from adapters.contract.files import BreakingChange, breaking, write_contract
from tests.contract_check import CONTRACT, load

ROOT = CONTRACT.parents[1]
FAILED = "schemas/PaymentFailed.v2.json"
STARTED = "schemas/PaymentAttemptStarted.v1.json"


def changed(name: str, change: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    old = load(name)
    new = copy.deepcopy(old)
    change(new)
    return old, new


def test_the_code_makes_no_breaking_change_to_a_committed_schema() -> None:
    assert breaking(CONTRACT) == []


def test_adding_a_field_or_narrowing_a_type_is_compatible() -> None:
    def add(schema: dict[str, Any]) -> None:
        schema["properties"]["data"]["properties"]["retry_at"] = {"type": "string"}
        schema["properties"]["data"]["required"].append("retry_at")

    def narrow(schema: dict[str, Any]) -> None:
        schema["$defs"]["PaymentAttempt"]["properties"]["settled_at"] = {
            "type": "string",
            "format": "date-time",
        }

    assert breaking_changes(*changed(FAILED, add)) == []
    assert breaking_changes(*changed(STARTED, narrow)) == []


def data(schema: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = schema["properties"]["data"]
    return found


def remove(schema: dict[str, Any]) -> None:
    del data(schema)["properties"]["failure"]
    data(schema)["required"].remove("failure")


def rename(schema: dict[str, Any]) -> None:
    data(schema)["properties"]["kind"] = data(schema)["properties"].pop("failure")
    data(schema)["required"] = ["attempt_id", "decline_code", "kind"]


def retype(schema: dict[str, Any]) -> None:
    data(schema)["properties"]["decline_code"] = {"type": "integer"}


def widen(schema: dict[str, Any]) -> None:
    data(schema)["properties"]["decline_code"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}


def optional(schema: dict[str, Any]) -> None:
    data(schema)["required"].remove("decline_code")


def new_value(schema: dict[str, Any]) -> None:
    schema["$defs"]["FailureKind"]["enum"].append("fraud")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (remove, "$.data.failure: removed"),
        (rename, "$.data.failure: removed"),
        (retype, "$.data.decline_code: type integer was string"),
        (widen, "$.data.decline_code: type null was string"),
        (optional, "$.data.decline_code: no longer required"),
        (new_value, "$.data.failure: values fraud|hard|soft were hard|soft"),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_a_breaking_change_is_named_with_its_path(change: Any, problem: str) -> None:
    assert problem in breaking_changes(*changed(FAILED, change))


def test_a_looser_format_is_a_widening() -> None:
    def any_text(schema: dict[str, Any]) -> None:
        schema["$defs"]["PaymentAttempt"]["properties"]["settled_at"] = {"type": "string"}

    assert breaking_changes(*changed(STARTED, any_text)) == [
        "$.data.attempt.settled_at: string fits none of null|string"
    ]


def test_a_nested_retype_through_shared_shapes_is_found() -> None:
    def money_as_text(schema: dict[str, Any]) -> None:
        schema["$defs"]["Money"]["properties"]["amount"] = {"type": "string"}

    assert breaking_changes(*changed(STARTED, money_as_text)) == [
        "$.data.attempt.amount.amount: type string was integer"
    ]


@pytest.fixture
def contract_copy(tmp_path: Path) -> Path:
    copied = tmp_path / "contract"
    shutil.copytree(CONTRACT, copied)
    return copied


def test_the_generator_refuses_to_write_a_breaking_change(contract_copy: Path) -> None:
    # As if the code had dropped a field of PaymentFailed v2: the committed file has
    # `retry_at`, the code does not.
    published = contract_copy / FAILED
    schema = json.loads(published.read_text())
    data(schema)["properties"]["retry_at"] = {"type": "string"}
    data(schema)["required"].append("retry_at")
    published.write_text(json.dumps(schema))
    (contract_copy / "asyncapi.json").unlink()
    with pytest.raises(BreakingChange) as refused:
        write_contract(contract_copy)
    assert refused.value.problems == [f"{FAILED}: $.data.retry_at: removed"]
    assert not (contract_copy / "asyncapi.json").exists()  # nothing written


def test_the_generator_refuses_to_drop_a_published_schema(contract_copy: Path) -> None:
    (contract_copy / "schemas" / "PaymentFailed.v3.json").write_text(
        (contract_copy / FAILED).read_text()
    )
    with pytest.raises(BreakingChange):
        write_contract(contract_copy)


def test_the_cli_checks_and_regenerates_the_contract(contract_copy: Path) -> None:
    runner = CliRunner()
    (contract_copy / "asyncapi.json").write_text("{}\n")
    (contract_copy / STARTED).unlink()
    checked = runner.invoke(contract_app, ["check", "--directory", str(contract_copy)])
    assert checked.exit_code == 1
    assert "asyncapi.json: differs" in checked.output
    assert f"{STARTED}: missing" in checked.output
    generated = runner.invoke(contract_app, ["generate", "--directory", str(contract_copy)])
    assert generated.exit_code == 0, generated.output
    assert runner.invoke(contract_app, ["check", "--directory", str(contract_copy)]).exit_code == 0
    assert (contract_copy / STARTED).read_text() == (CONTRACT / STARTED).read_text()


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout


def revisions(path: Path) -> list[dict[str, Any]]:
    """Every committed revision of a schema file, oldest first."""
    relative = path.relative_to(ROOT).as_posix()
    commits = git("log", "--format=%H", "--reverse", "--", relative).split()
    return [json.loads(git("show", f"{commit}:{relative}")) for commit in commits]


@pytest.mark.parametrize(
    "path", sorted((CONTRACT / "schemas").glob("*.json")), ids=lambda p: p.stem
)
def test_no_revision_in_history_broke_an_earlier_one(path: Path) -> None:
    # Deleting a file and generating it again cannot hide a breaking change: every
    # committed revision, and the working tree's, must accept what the later ones describe.
    history = [*revisions(path), json.loads(path.read_text())]
    for index, later in enumerate(history[1:], start=1):
        for earlier in history[:index]:
            assert breaking_changes(earlier, later) == [], path.name
