"""The invoice document a route serves: the invoice from the `invoices` read model, the
methods its payments used from `account_detail`, the seller from settings, and the billing
details as they were when the invoice was issued.

Billing details as issued: the account aggregate loaded at the stream version of the
invoice's `InvoiceFinalized` event (recorded by the invoices projection), whose profile is
the one the invoice was issued to. Only a document pays for that load (a snapshot and the
events after it); lists and the JSON detail never replay. A row projected before the
version was recorded falls back to the last version at or before its finalisation time.
"""

from __future__ import annotations

from uuid import UUID

from adapters.bootstrap import Container
from adapters.pdf.document import BilledTo, Copy, InvoiceDocument, Seller
from ledger.account.aggregate import Account
from ledger.invoices import InvoiceNotFound
from queries.account_detail import methods_by_id
from queries.audit import version_at
from queries.invoices import InvoiceDetail


def invoice_document(
    c: Container, account_id: UUID, invoice: InvoiceDetail, copy: Copy
) -> InvoiceDocument:
    if invoice.number is None or invoice.finalized_at is None:  # a draft has no document
        raise InvoiceNotFound()
    with c.connection() as conn:
        methods = methods_by_id(conn, account_id, c.deps.clock.now())
        version = invoice.finalized_version or version_at(
            conn, account_id, c.reader.decode_rows, invoice.finalized_at
        )
    if version is None:
        raise InvoiceNotFound()
    return InvoiceDocument(invoice, seller(c), billed_as_issued(c, account_id, version),
                           methods, copy)  # fmt: skip


def seller(c: Container) -> Seller:
    s = c.settings
    return Seller(s.seller_legal_name, s.seller_address, s.seller_tax_id)


def billed_as_issued(c: Container, account_id: UUID, version: int) -> BilledTo:
    account: Account = c.app.repository.get(account_id, version=version)
    p = account.profile
    return BilledTo(p.name, p.email, p.country, p.tax_id)
