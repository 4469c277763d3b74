"""Pay bad debt: charge the uncollectible invoices support chooses, with the method it
chooses (support route `pay_bad_debt`, with `invoice_ids`). Each invoice is charged in
full; the bad-debt flag stays while any invoice is still uncollectible."""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Container
from adapters.http.console.act_facts import (
    invoice_words,
    invoices_of,
    method_labels,
    method_words,
    methods_of,
)
from adapters.http.console.acting import Action, Form, Parsed, Unclear, one
from adapters.http.routers.billing import BadDebtBody, BadDebtPaid
from adapters.pdf.invoice import format_money
from ledger.invoices import DisplayStatus
from queries.accounts import AccountView
from queries.invoices import InvoiceSummary


def choices(container: Container, account: AccountView) -> dict[str, Any]:
    every = invoices_of(container, account.account_id)
    return {
        "uncollectible": [i for i in every if i.display_status is DisplayStatus.UNCOLLECTIBLE],
        "invoices_by_id": {i.invoice_id: i for i in every},
        "methods": methods_of(container, account.account_id),
        "method_labels": method_labels(container, account.account_id),
    }


def parse(form: Form, reason: str) -> Parsed:
    invoice_ids = [i for i in form.get("invoice_ids", []) if i]
    if not invoice_ids:
        raise Unclear("Choose at least one uncollectible invoice to pay.")
    method_id = one(form, "method_id") or None
    return Parsed(BadDebtBody(reason=reason, method_id=method_id, invoice_ids=invoice_ids))


def describe(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    """Each charge (oldest first, as the ledger makes them), the total, and whether the
    flag can be lifted."""
    assert isinstance(parsed.body, BadDebtBody)
    offered = choices(container, account)
    asked = set(parsed.body.invoice_ids or [])
    method = method_words(parsed.body.method_id, offered["methods"], offered["method_labels"])
    chosen = [i for i in offered["uncollectible"] if i.invoice_id in asked]
    said = [f"Charge {invoice_words(i)}, in full, to {method}." for i in chosen]
    said += [_not_payable(i, offered["invoices_by_id"]) for i in sorted(asked - _ids(chosen))]
    said.append(f"In all: {_total(chosen)}.")
    said.append("A declined charge leaves its invoice uncollectible; the others are still charged.")
    left = [i for i in offered["uncollectible"] if i.invoice_id not in asked]
    if left:
        names = ", ".join(invoice_words(i) for i in left)
        said.append(
            f"The account stays in bad debt even if every charge succeeds: {names} is not paid."
        )
    else:
        said.append(
            "If every charge succeeds, nothing is uncollectible and the bad-debt flag is lifted."
        )
    return said


def _ids(invoices: list[InvoiceSummary]) -> set[str]:
    return {i.invoice_id for i in invoices}


def _not_payable(invoice_id: str, by_id: dict[str, InvoiceSummary]) -> str:
    known = by_id.get(invoice_id)
    if known is None:
        return f"No invoice {invoice_id} is known: the ledger will refuse the whole action."
    return (
        f"{invoice_words(known)} is {known.display_status.value.replace('_', ' ')}, not"
        " uncollectible: the ledger will refuse the whole action."
    )


def _total(invoices: list[InvoiceSummary]) -> str:
    totals: dict[str, int] = {}
    for invoice in invoices:
        totals[invoice.currency] = totals.get(invoice.currency, 0) + invoice.amount_due
    return ", ".join(format_money(a, c) for c, a in sorted(totals.items())) or "nothing"


def present(outcome: BadDebtPaid) -> dict[str, Any]:
    all_paid = all(p.status == "succeeded" for p in outcome.payments)
    return {"paid": outcome, "outcome_tone": "good" if all_paid else "warn"}


ACTION = Action(
    slug="pay-bad-debt",
    operation="pay_bad_debt",
    title="Pay bad debt",
    parse=parse,
    describe=describe,
    choices=choices,
    present=present,
)
