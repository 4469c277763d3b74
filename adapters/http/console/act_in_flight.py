"""Resolve the payments in flight of a stuck account now (support route
`support_resolve_in_flight`: the janitor's work for this account): each attempt pending
longer than the threshold is looked up at its processor and what it says is recorded. The
result lists every attempt with its resolution in words; the account page stops saying
"stuck" once the read models have applied the events."""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Container
from adapters.http.console.acting import Action, Form, Parsed, Unclear, one
from adapters.http.routers.in_flight import InFlightResolved, ResolveBody
from queries.accounts import AccountView
from queries.payment_facts import OpenAttempt, payment_facts

DEFAULT_MINUTES = 15


def in_flight(container: Container, account: AccountView) -> list[OpenAttempt]:
    """The account's attempts in flight or waiting for the customer (health read model)."""
    with container.connection() as conn:
        facts = payment_facts(conn, account.account_id)
    return list(facts.attempts) if facts else []


def choices(container: Container, account: AccountView) -> dict[str, Any]:
    return {"attempts": in_flight(container, account), "default_minutes": DEFAULT_MINUTES}


def parse(form: Form, reason: str) -> Parsed:
    text = one(form, "older_than_minutes") or str(DEFAULT_MINUTES)
    if not text.isdigit():
        raise Unclear("Older than: a whole number of minutes, e.g. 15.")
    return Parsed(ResolveBody(reason=reason, older_than_minutes=int(text)))


def describe(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    minutes = parsed.body.model_dump()["older_than_minutes"]
    attempts = in_flight(container, account)
    pending = sum(a.status == "pending" for a in attempts)
    waiting = len(attempts) - pending
    return [
        f"{account.name}'s account has {pending} payment(s) in flight and {waiting} waiting"
        " for the customer (as the read models last saw it).",
        f"Each payment in flight for at least {minutes} minutes is looked up at its"
        " processor by its attempt id, and what the processor says is recorded: paid,"
        " declined, or never received (nothing was charged; the invoice may be collected"
        " again).",
        "A wait for the customer (3-D Secure) is resolved only once it has expired: it is"
        " cancelled at the processor first, then recorded as failed.",
        "A processor that cannot be asked leaves its payment in flight: nothing is recorded"
        " for it.",
    ]


def present(outcome: InFlightResolved) -> dict[str, Any]:
    return {"resolved": outcome.resolved, "unresolved": outcome.unresolved}


ACTION = Action(
    slug="resolve-in-flight",
    operation="support_resolve_in_flight",
    title="Resolve payments in flight",
    parse=parse,
    describe=describe,
    choices=choices,
    present=present,
)
