"""How the customer's subscriptions are paid, in a customer's words: the collection path
the domain derives from the default method (`ledger.methods.collection_path`, read from the
`account_detail` read model), which every renewing subscription follows. A default PayPal
billing agreement: each invoice is sent, due some days after it is issued, and collected
from PayPal; a card (or a PayPal account vaulted without an agreement): charged
automatically when it renews. `how` and `via` fit a plan row; `sentence` explains it;
`then` finishes "your subscriptions are ..." (what a removal leads to)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.http.console.words import method_name
from adapters.http.portal.invoice_words import day
from ledger.account import PAYPAL_DAYS_UNTIL_DUE
from ledger.invoices import DisplayStatus
from ledger.methods import CollectionPath
from queries.account_detail import MethodView
from queries.invoices import InvoiceSummary

SEND_INVOICE = CollectionPath.PAYPAL_SEND_INVOICE.value


@dataclass(frozen=True)
class PaidHow:
    how: str  # a plan row: "Charged automatically to", then
    via: str  # the method, kept on one line: "Visa •••• 4242"
    sentence: str  # the path explained
    then: str  # "your subscriptions are ...": what a change leads to

    @property
    def row(self) -> str:
        return f"{self.how} {self.via}".strip()


def paid_how(path: str, default: MethodView | None) -> PaidHow:
    if default is None or not default.usable:
        return PaidHow(
            "No payment method",
            "",
            "No payment method can pay your renewals: add one before your next renewal.",
            "paid by no payment method: add one before your next renewal.",
        )
    name = method_name(default)
    if path == SEND_INVOICE:
        due = f"due {PAYPAL_DAYS_UNTIL_DUE} days after it is issued"
        return PaidHow(
            "Invoiced, paid by",
            name,
            f"Paid by PayPal: each renewal is invoiced to you, {due}, and collected from"
            f" {name} when it falls due. Your invoices are under Invoices.",
            f"invoiced at each renewal, {due}, and collected from {name} when it falls due.",
        )
    return PaidHow(
        "Charged automatically to",
        name,
        f"Charged automatically: each renewal is charged to {name} on the day it renews.",
        f"charged automatically to {name} at each renewal.",
    )


def collected_when(invoice: InvoiceSummary, path: str, default: MethodView | None) -> str | None:
    """What happens to an open invoice on the send-invoice path: the billing run collects
    it from the default PayPal account on its due date (ledger.dunning: the first attempt
    of a send-invoice invoice waits for `due_at`). None for anything else."""
    owed = invoice.display_status is DisplayStatus.OPEN and invoice.amount_due > 0
    if not owed or path != SEND_INVOICE or invoice.due_at is None:
        return None
    if default is None or not default.usable:
        return None
    return (
        f"It will be collected from {method_name(default)} on {day(invoice.due_at)}, its due"
        " date: there is nothing for you to do."
    )
