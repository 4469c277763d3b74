"""A finding's repairs as the CLI runs them: `ledger reconcile repair ACCOUNT ACTION
[options] --reason "..."`, alternatives joined by ` | `. Stored with each finding (the
read model's `repair` column) and shown as is by `ledger reconcile show` and HTTP."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from uuid import UUID

from commands.reconcile_compare import Repair

# The options of `ledger reconcile repair`, in the order a line names them.
OPTIONS = (
    ("processor", "--processor"),
    ("method_ref", "--ref"),
    ("method_id", "--method"),
    ("attempt_id", "--attempt"),
    ("refund_id", "--refund"),
    ("dispute_id", "--dispute"),
)


def repair_line(account_id: UUID, repair: Repair) -> str:
    words = ["ledger reconcile repair", str(account_id), repair.action.value]
    for field, option in OPTIONS:
        value = getattr(repair, field)
        if value is not None:
            words += [option, value.value if isinstance(value, Enum) else value]
    return " ".join([*words, '--reason "..."'])


def repair_lines(account_id: UUID, repairs: Iterable[Repair]) -> str | None:
    """None when no repair command applies (a person must look)."""
    return " | ".join(repair_line(account_id, r) for r in repairs) or None
