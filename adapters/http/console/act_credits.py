"""Credits: grant one (an amount in the account's currency, optionally expiring), or revoke
one of the account's active credits (support routes `grant` and `revoke`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from adapters.bootstrap import Container
from adapters.http.console.act_facts import credits_of, minor_units
from adapters.http.console.acting import Action, Form, Parsed, Unclear, one
from adapters.http.console.pages import when
from adapters.http.routers.billing import Body, CreditBody
from adapters.pdf.invoice import format_money
from ledger.credits import Credit
from queries.accounts import AccountView


def choices(container: Container, account: AccountView) -> dict[str, Any]:
    credits = credits_of(container, account.account_id)
    return {"credits": credits, "balance": sum(c.available.amount for c in credits)}


def _expiry(text: str) -> datetime | None:
    """A date as a browser's date input sends it; the credit expires as that day starts (UTC)."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Unclear(f"The expiry {text!r} is not a date (e.g. 2026-12-31).") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_grant(form: Form, reason: str) -> Parsed:
    currency = one(form, "currency")
    text = one(form, "amount")
    if not text:
        raise Unclear("Give the amount of the credit.")
    amount = minor_units(text, currency)
    expires_at = _expiry(one(form, "expires_on"))
    return Parsed(
        CreditBody(reason=reason, amount=amount, currency=currency, expires_at=expires_at)
    )


def describe_grant(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    assert isinstance(parsed.body, CreditBody)
    body = parsed.body
    balance = choices(container, account)["balance"]
    granted = format_money(body.amount, body.currency)
    expiry = (
        f"It expires at {when(body.expires_at)}; what is left of it then is lost."
        if body.expires_at
        else "It does not expire."
    )
    return [
        f"Grant {account.name} a credit of {granted}, used before any charge on the"
        " account's next invoices.",
        expiry,
        _available(balance, balance + body.amount, account.currency),
    ]


def parse_revoke(form: Form, reason: str) -> Parsed:
    credit_id = one(form, "credit_id")
    if not credit_id:
        raise Unclear("Choose the credit to revoke.")
    return Parsed(Body(reason=reason), {"credit_id": credit_id})


def describe_revoke(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    offered = choices(container, account)
    credit: Credit | None = next(
        (c for c in offered["credits"] if c.credit_id == parsed.path["credit_id"]), None
    )
    if credit is None:
        return [f"No credit {parsed.path['credit_id']} is known: the ledger will refuse."]
    left = format_money(credit.available.amount, credit.granted.currency)
    granted = format_money(credit.granted.amount, credit.granted.currency)
    after = offered["balance"] - credit.available.amount
    return [
        f"Revoke the credit {credit.credit_id} of {granted}, granted {when(credit.granted_at)}:"
        f" what is left of it, {left}, can no longer be used.",
        "What it already paid on invoices stays paid.",
        _available(offered["balance"], after, account.currency),
    ]


def _available(before: int, after: int, currency: str) -> str:
    return (
        f"The account's available credit goes from {format_money(before, currency)}"
        f" to {format_money(after, currency)}."
    )


GRANT = Action(
    slug="grant-credit",
    operation="grant",
    title="Grant a credit",
    parse=parse_grant,
    describe=describe_grant,
    choices=choices,
)
REVOKE = Action(
    slug="revoke-credit",
    operation="revoke",
    title="Revoke a credit",
    parse=parse_revoke,
    describe=describe_revoke,
    choices=choices,
)
