"""Retry an invoice's payment: charge an open or past-due invoice now, with the method
support chooses (support route `pay`; support is not the customer, so off-session). A
decline is recorded and said in words."""

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
from adapters.http.routers.billing import BillingWritten, PayBody
from ledger.invoices import DisplayStatus
from queries.accounts import AccountView


def choices(container: Container, account: AccountView) -> dict[str, Any]:
    payable = invoices_of(container, account.account_id, DisplayStatus.OPEN, DisplayStatus.PAST_DUE)
    return {
        "payable": payable,
        "invoices_by_id": {i.invoice_id: i for i in invoices_of(container, account.account_id)},
        "methods": methods_of(container, account.account_id),
        "method_labels": method_labels(container, account.account_id),
    }


def parse(form: Form, reason: str) -> Parsed:
    invoice_id = one(form, "invoice_id")
    if not invoice_id:
        raise Unclear("Choose the invoice to charge.")
    body = PayBody(reason=reason, method_id=one(form, "method_id") or None)
    return Parsed(body, {"invoice_id": invoice_id})


def describe(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    assert isinstance(parsed.body, PayBody)
    offered = choices(container, account)
    invoice = offered["invoices_by_id"].get(parsed.path["invoice_id"])
    method = method_words(parsed.body.method_id, offered["methods"], offered["method_labels"])
    if invoice is None:
        return [f"No invoice {parsed.path['invoice_id']} is known: the ledger will refuse."]
    status = invoice.display_status.value.replace("_", " ")
    return [
        f"Charge {invoice_words(invoice)}, {status}, to {method}, now.",
        "The customer is not present (an off-session charge): a card that needs the"
        " customer to authenticate will wait for them.",
        "A declined charge is recorded as a failed attempt and the invoice stays unpaid.",
    ]


def present(outcome: BillingWritten) -> dict[str, Any]:
    payment = outcome.payment
    succeeded = payment is not None and payment.status == "succeeded"
    return {"written": outcome, "outcome_tone": "good" if succeeded else "warn"}


ACTION = Action(
    slug="retry-payment",
    operation="pay",
    title="Retry an invoice's payment",
    parse=parse,
    describe=describe,
    choices=choices,
    present=present,
)
