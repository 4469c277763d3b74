"""Recompute: replay the account's events into every read model (support route
`support_recompute`); the result page shows, per read model, the fields that changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.bootstrap import Container
from adapters.http.common import ReasonBody
from adapters.http.console.acting import Action, Form, Parsed
from adapters.http.routers.recompute import Recomputed
from queries.accounts import AccountView


def parse(_form: Form, reason: str) -> Parsed:
    return Parsed(ReasonBody(reason=reason))


def describe(container: Container, account: AccountView, _parsed: Parsed) -> list[str]:
    models = ", ".join(sorted(container.projections))
    return [
        f"Every event of {account.name}'s account is replayed into every read model"
        f" ({models}); their rows for this account are rebuilt from the events.",
        "No money moves and no invoice changes: only what the console and the API read"
        " is made to agree with the events.",
        "An AccountRecomputeRequested event records who asked and why; the result shows"
        " which read models changed, before and after.",
    ]


@dataclass(frozen=True)
class FieldChange:
    read_model: str
    field: str
    before: Any
    after: Any


def present(outcome: Recomputed) -> dict[str, Any]:
    """Per read model that changed, each field that differs (absent: None); and the read
    models that did not change."""
    changes = [
        FieldChange(name, f, change.before.get(f), change.after.get(f))
        for name, change in sorted(outcome.projections.items())
        if change.changed
        for f in sorted(change.before.keys() | change.after.keys())
    ]
    unchanged = sorted(n for n, change in outcome.projections.items() if not change.changed)
    return {"changes": changes, "unchanged": unchanged}


ACTION = Action(
    slug="recompute",
    operation="support_recompute",
    title="Recompute the read models",
    parse=parse,
    describe=describe,
    present=present,
)
