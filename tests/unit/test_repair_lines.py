"""A finding's repairs as the CLI runs them: the same command lines as the application
layer used to build (stored with each finding, shown by `ledger reconcile show` and HTTP),
with options the CLI's `reconcile repair` takes."""

from __future__ import annotations

from uuid import UUID

import typer

from adapters.cli.reconcile import app
from adapters.cli.repair_lines import OPTIONS, repair_lines
from commands.models import RepairAction
from commands.reconcile_compare import Repair
from ledger.payments import Processor

ACCOUNT = UUID("8f14e45f-ceea-467f-a8f7-4b6a6a1f0c2d")
LINE = f"ledger reconcile repair {ACCOUNT}"
REASON = '--reason "..."'
STRIPE = Processor.STRIPE


def test_each_repair_is_the_command_line_it_always_was() -> None:
    cases = {
        Repair(RepairAction.PUSH_CUSTOMER, processor=STRIPE): "push-customer --processor stripe",
        Repair(RepairAction.PUSH_DEFAULT, processor=Processor.BRAINTREE): (
            "push-default --processor braintree"
        ),
        Repair(RepairAction.REMOVE_METHOD, method_id="card-2"): "remove-method --method card-2",
        Repair(RepairAction.DETACH_METHOD, processor=STRIPE, method_ref="pm_x"): (
            "detach-method --processor stripe --ref pm_x"
        ),
        Repair(RepairAction.RESOLVE_ATTEMPT, attempt_id="a-1"): "resolve-attempt --attempt a-1",
        Repair(RepairAction.RECORD_REFUND, attempt_id="a-1", refund_id="re_1"): (
            "record-refund --attempt a-1 --refund re_1"
        ),
        Repair(RepairAction.RECORD_DISPUTE, attempt_id="a-1", dispute_id="dp_1"): (
            "record-dispute --attempt a-1 --dispute dp_1"
        ),
    }
    for repair, words in cases.items():
        assert repair_lines(ACCOUNT, [repair]) == f"{LINE} {words} {REASON}"


def test_alternatives_are_joined_and_no_repair_is_none() -> None:
    adopt = Repair(RepairAction.ADOPT_CUSTOMER, processor=STRIPE)
    push = Repair(RepairAction.PUSH_CUSTOMER, processor=STRIPE)
    assert repair_lines(ACCOUNT, [adopt, push]) == (
        f"{LINE} adopt-customer --processor stripe {REASON} | "
        f"{LINE} push-customer --processor stripe {REASON}"
    )
    assert repair_lines(ACCOUNT, []) is None


def test_the_options_are_the_cli_repair_commands() -> None:
    group = typer.main.get_command(app)
    command = group.commands["repair"]  # type: ignore[attr-defined]
    names = {opt for param in command.params for opt in param.opts}
    assert {option for _, option in OPTIONS} <= names
    assert {"--reason"} <= names
    assert set(Repair.__dataclass_fields__) == {"action"} | {field for field, _ in OPTIONS}
