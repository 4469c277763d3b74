"""Invoices: drafted and finalized (numbered, credits applied, due date on the PayPal
send-invoice path), covered by credit, voided (reversed, or written off when uncollectible)."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.account.credits import Credits
from ledger.account.state import AccountEvent, AccountState, MoneyMoved
from ledger.credits import allocate
from ledger.errors import NothingToChange, SupportOnly
from ledger.invoices import Invoice, InvoiceStatus, LineItem, invoice_number
from ledger.journal import JournalEntry
from ledger.journal import LedgerAccount as L
from ledger.meta import ActorKind, EventMeta
from ledger.methods import CollectionPath
from ledger.money import Money

PAYPAL_DAYS_UNTIL_DUE = 7


class InvoiceDrafted(AccountEvent):
    TOPIC = "ledger.events:InvoiceDrafted"
    invoice: Invoice

    def apply_to(self, account: AccountState) -> None:
        account.invoices = {**account.invoices, self.invoice.invoice_id: self.invoice}


class InvoiceFinalized(MoneyMoved):
    TOPIC = "ledger.events:InvoiceFinalized"
    invoice_id: str
    number: str
    due_at: datetime | None
    credits_used: dict[str, int]

    def apply_to(self, account: AccountState) -> None:
        inv = account.invoices[self.invoice_id]
        finalized = inv.finalized(
            self.number, self.meta.occurred_at, self.due_at, self.credits_used
        )
        account.invoices = {**account.invoices, self.invoice_id: finalized}
        account.invoice_seq += 1
        account.currency_locked = True
        for credit_id, used in self.credits_used.items():
            account.credits = {**account.credits, credit_id: account.credits[credit_id].used(used)}


class InvoiceCoveredByCredit(AccountEvent):
    """Credits covered the whole amount at finalization: paid, with nothing to collect."""

    TOPIC = "ledger.events:InvoiceCoveredByCredit"
    invoice_id: str

    def apply_to(self, account: AccountState) -> None:
        inv = account.invoices[self.invoice_id].paid(self.meta.occurred_at)
        account.invoices = {**account.invoices, self.invoice_id: inv}


class InvoiceVoided(MoneyMoved):
    """Voiding an open invoice reverses it; voiding an uncollectible one writes it off."""

    TOPIC = "ledger.events:InvoiceVoided"
    invoice_id: str
    credits_restored: dict[str, int]

    def apply_to(self, account: AccountState) -> None:
        inv = account.invoices[self.invoice_id].voided(self.meta.occurred_at)
        account.invoices = {**account.invoices, self.invoice_id: inv}
        for credit_id, amount in self.credits_restored.items():
            credit = account.credits[credit_id]
            account.credits = {**account.credits, credit_id: credit.used(-amount)}


class Invoices(Credits):
    def _invoice(
        self,
        invoice_id: str,
        lines: tuple[LineItem, ...],
        meta: EventMeta,
        on_session_change: str | None,
    ) -> None:
        self._require_new_invoice(invoice_id)
        draft = Invoice(
            invoice_id,
            self.profile.currency,
            lines,
            meta.occurred_at,
            on_session_change=on_session_change,
        )
        self.trigger_event(InvoiceDrafted, invoice=draft, meta=meta)
        self._finalize(invoice_id, meta)

    def _finalize(self, invoice_id: str, meta: EventMeta) -> None:
        inv = self._invoice_of(invoice_id)
        credits_used = allocate(self.credits.values(), inv.total, meta.occurred_at)
        credit = Money(sum(credits_used.values()), inv.currency)
        send_invoice = self.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
        # Charged-automatically invoices have no due date (as at Stripe): they are collected
        # at once, and dunning (not a date) drives them after a failed collection.
        due_at = meta.occurred_at + timedelta(days=PAYPAL_DAYS_UNTIL_DUE) if send_invoice else None
        journal = JournalEntry.of(
            (L.RECEIVABLE, L.REVENUE, inv.total),
            (L.CUSTOMER_CREDIT, L.RECEIVABLE, credit),
        )
        self.trigger_event(
            InvoiceFinalized,
            invoice_id=invoice_id,
            number=invoice_number(self.number_prefix, self.invoice_seq + 1),
            due_at=due_at,
            credits_used=credits_used,
            journal=journal,
            meta=meta,
        )
        if not self.invoices[invoice_id].amount_due.is_positive:
            self.trigger_event(InvoiceCoveredByCredit, invoice_id=invoice_id, meta=meta)

    def void_invoice(self, invoice_id: str, meta: EventMeta) -> None:
        """Voids an open invoice (reversed, credits restored), or writes off an uncollectible
        one (bad-debt expense; support only, with the reason on the event)."""
        inv = self._invoice_of(invoice_id)
        self._refuse_if_invoice_in_flight(invoice_id)
        inv.voided(meta.occurred_at)  # raises if not allowed
        if inv.status is InvoiceStatus.UNCOLLECTIBLE:
            if meta.actor.kind is not ActorKind.SUPPORT:
                raise SupportOnly("writing off bad debt is a support action")
            journal = JournalEntry.of((L.BAD_DEBT_EXPENSE, L.RECEIVABLE, inv.amount_due))
            restored: dict[str, int] = {}
        else:
            # Credit goes back to the credits it came from while they are active; the share
            # of a credit revoked or expired since lapses (as if it had been taken back).
            used = inv.credits_used or {}
            restored = {cid: n for cid, n in used.items() if self.credits[cid].active}
            back = Money(sum(restored.values()), inv.currency)
            lapsed = Money(sum(used.values()), inv.currency) - back
            journal = JournalEntry.of(
                (L.REVENUE, L.RECEIVABLE, inv.total),
                (L.RECEIVABLE, L.CUSTOMER_CREDIT, back),
                (L.RECEIVABLE, L.CREDITS_GRANTED, lapsed),
            )
        self.trigger_event(
            InvoiceVoided,
            invoice_id=invoice_id,
            credits_restored=restored,
            journal=journal,
            meta=meta,
        )

    def _require_new_invoice(self, invoice_id: str) -> None:
        if invoice_id in self.invoices:
            raise NothingToChange(f"invoice {invoice_id} exists")
