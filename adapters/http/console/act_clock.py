"""Advance the account's test clock (support route `support_advance_test_clock`;
development and test deployments only): the clock moves forward a day at a time and the
billing run of every account on the clock runs at each day's time, as part of the action,
so the account page then shows the renewals and dunning that happened on the way. Offered
only for an account attached to a test clock."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from adapters.bootstrap import Container
from adapters.clock_registry import TestClock
from adapters.http.console.acting import Action, Form, Parsed, Unclear, one
from adapters.http.console.pages import TEMPLATES, when
from adapters.http.routers.clocks import AdvanceBody, ClockAdvanced
from queries.accounts import AccountView

MAX_DAYS = 366


def clock_of(container: Container, account_id: UUID) -> TestClock | None:
    """The account's test clock; None when it has none or none are wired (production)."""
    if container.clocks is None:
        return None
    return container.clocks.clock_of(account_id)


def _clock_in(request: Any, account_id: UUID) -> TestClock | None:
    """For the account page's form: shown only for an account on a test clock."""
    return clock_of(request.app.state.container, account_id)


TEMPLATES.env.globals["test_clock_of"] = _clock_in


def choices(container: Container, account: AccountView) -> dict[str, Any]:
    return {"clock": clock_of(container, account.account_id)}


def parse(form: Form, reason: str) -> Parsed:
    try:
        days = Decimal(one(form, "days"))
    except InvalidOperation:
        raise Unclear("Days: a number of days, e.g. 31.") from None
    if not days.is_finite() or not 0 < days <= MAX_DAYS:
        raise Unclear(f"Days: more than 0 and at most {MAX_DAYS}.")
    return Parsed(AdvanceBody(reason=reason, days=float(days)))


def describe(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    clock = clock_of(container, account.account_id)
    days = parsed.body.model_dump()["days"]
    if clock is None:
        return ["This account is not on a test clock: the ledger will refuse."]
    others = clock.accounts - 1
    return [
        f"Test clock {clock.name} moves from {when(clock.frozen_at)} forward by {days:g}"
        " day(s), a day at a time.",
        f"At each day's time the billing run runs for {account.name}'s account"
        + (f" and the {others} other account(s) on the clock" if others else "")
        + ": renewals, dunning retries and credit expiry due by then happen and are"
        " recorded, carrying your name and reason.",
        "The advance itself is kept with who moved the clock and why. A clock never moves back.",
    ]


def present(outcome: ClockAdvanced) -> dict[str, Any]:
    return {"advanced": outcome}


ACTION = Action(
    slug="advance-clock",
    operation="support_advance_test_clock",
    title="Advance the test clock",
    parse=parse,
    describe=describe,
    choices=choices,
    present=present,
)
