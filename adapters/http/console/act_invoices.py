"""Void an open invoice (support route `void`); write one off: an open or past-due invoice
marked uncollectible by hand (support route `mark_uncollectible`; the account is in bad
debt from then on); and write bad debt off: an uncollectible invoice voided as a bad-debt
expense (support route `write_off`; shown "written off"). The form offers the invoices each
applies to; the confirmation names the invoice, its amount and what will follow."""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Container
from adapters.http.console.acting import Action, Form, Parsed, Unclear, one
from adapters.http.routers.billing import Body
from adapters.pdf.invoice import format_money
from ledger.invoices import DisplayStatus
from queries.accounts import AccountView
from queries.invoices import InvoiceFilters, InvoiceSummary, get_invoice, list_invoices

OPEN = (DisplayStatus.OPEN, DisplayStatus.PAST_DUE)


def invoices_in(
    container: Container, account: AccountView, statuses: tuple[DisplayStatus, ...]
) -> list[InvoiceSummary]:
    """The account's invoices shown with these statuses, newest first (at most 100 each)."""
    now = container.deps.clock.now()
    key = container.settings.cursor_secret.encode()
    found: list[InvoiceSummary] = []
    with container.connection() as conn:
        for status in statuses:
            page = list_invoices(
                conn, account.account_id, key, now, InvoiceFilters(status=status), 100
            )
            found.extend(page.items)
    return sorted(found, key=lambda i: i.created_at, reverse=True)


def choices(container: Container, account: AccountView) -> dict[str, Any]:
    return {"invoices": invoices_in(container, account, OPEN), "wanted": "open or past-due"}


def uncollectible(container: Container, account: AccountView) -> dict[str, Any]:
    found = invoices_in(container, account, (DisplayStatus.UNCOLLECTIBLE,))
    return {"invoices": found, "wanted": "uncollectible"}


def parse(form: Form, reason: str) -> Parsed:
    invoice_id = one(form, "invoice_id")
    if not invoice_id:
        raise Unclear("Choose an invoice.")
    return Parsed(Body(reason=reason), {"invoice_id": invoice_id})


def _invoice(container: Container, account: AccountView, parsed: Parsed) -> InvoiceSummary | None:
    with container.connection() as conn:
        return get_invoice(
            conn, account.account_id, parsed.path["invoice_id"], container.deps.clock.now()
        )


NO_SUCH = ["The account has no such invoice: the ledger will refuse, and nothing will change."]


def first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def named(invoice: InvoiceSummary) -> str:
    """The invoice as a person names it: its number and total, what is still due."""
    total = format_money(invoice.total, invoice.currency)
    due = format_money(invoice.amount_due, invoice.currency)
    status = invoice.display_status.value.replace("_", " ")
    return f"invoice {invoice.number or invoice.invoice_id} for {total} ({due} due, {status})"


def describe_void(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    invoice = _invoice(container, account, parsed)
    if invoice is None:
        return NO_SUCH
    return [
        f"{first_upper(named(invoice))} is voided: nothing is owed on it any more, and"
        " it is never collected.",
        "Its revenue is reversed in the journal; credit it used goes back to the credits it"
        " came from while they are still active.",
        "An InvoiceVoided event records who voided it and why. This cannot be undone.",
    ]


def describe_write_off(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    invoice = _invoice(container, account, parsed)
    if invoice is None:
        return NO_SUCH
    due = format_money(invoice.amount_due, invoice.currency)
    return [
        f"{first_upper(named(invoice))} is marked uncollectible: dunning stops trying to"
        " collect it.",
        f"{account.name}'s account is then in bad debt ({due} more of it): new purchases"
        " are refused and renewals stop until the bad debt is paid (Pay bad debt) or the"
        " invoice is written off.",
        "An InvoiceMarkedUncollectible event records who did it and why.",
    ]


def describe_bad_debt(container: Container, account: AccountView, parsed: Parsed) -> list[str]:
    invoice = _invoice(container, account, parsed)
    if invoice is None:
        return NO_SUCH
    due = format_money(invoice.amount_due, invoice.currency)
    return [
        f"{first_upper(named(invoice))} is written off: voided, its {due} booked as a"
        " bad-debt expense. It will never be collected, and it is shown as written off.",
        "Credit it used is not given back. If no other invoice is uncollectible, the account"
        " is out of bad debt.",
        "An InvoiceVoided event records who wrote it off and why. This cannot be undone.",
    ]


VOID = Action(
    slug="void",
    operation="void",
    title="Void an invoice",
    parse=parse,
    describe=describe_void,
    choices=choices,
)
WRITE_OFF = Action(
    slug="write-off",
    operation="mark_uncollectible",
    title="Write an invoice off (mark it uncollectible)",
    parse=parse,
    describe=describe_write_off,
    choices=choices,
)
WRITE_OFF_BAD_DEBT = Action(
    slug="write-off-bad-debt",
    operation="write_off",
    title="Write bad debt off",
    parse=parse,
    describe=describe_bad_debt,
    choices=uncollectible,
)
