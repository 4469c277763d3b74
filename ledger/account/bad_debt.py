"""Bad debt: an invoice dunning could not collect is marked uncollectible. The flag itself
is derived (`AccountState.bad_debt`) and blocks purchases (`Subscriptions`); it is paid
through attempts of purpose `bad_debt` (`Payments`) or written off (`Invoices.void_invoice`)."""

from __future__ import annotations

from ledger.account.state import AccountEvent, AccountState
from ledger.meta import EventMeta
from ledger.payments import AttemptPurpose


class InvoiceMarkedUncollectible(AccountEvent):
    TOPIC = "ledger.events:InvoiceMarkedUncollectible"
    invoice_id: str

    def apply_to(self, account: AccountState) -> None:
        inv = account.invoices[self.invoice_id].marked_uncollectible(self.meta.occurred_at)
        account.invoices = {**account.invoices, self.invoice_id: inv}


class BadDebt(AccountState):
    @property
    def lifting_bad_debt(self) -> bool:
        """A PayBadDebt payment is in flight: repairs must not touch the account."""
        return any(
            a.in_flight and a.purpose is AttemptPurpose.BAD_DEBT for a in self.attempts.values()
        )

    def mark_uncollectible(self, invoice_id: str, meta: EventMeta) -> None:
        inv = self._invoice_of(invoice_id)
        self._refuse_if_invoice_in_flight(invoice_id)
        inv.marked_uncollectible(meta.occurred_at)  # raises if not allowed
        self.trigger_event(InvoiceMarkedUncollectible, invoice_id=invoice_id, meta=meta)
