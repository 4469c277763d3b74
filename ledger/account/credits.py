"""Credits: granted by support (or by a downgrade), used by invoices at finalization,
revoked or expired."""

from __future__ import annotations

from datetime import datetime

from ledger.account.state import AccountState, MoneyMoved
from ledger.credits import Credit, CreditNotFound, CreditStatus
from ledger.errors import NothingToChange, SupportOnly
from ledger.journal import JournalEntry
from ledger.journal import LedgerAccount as L
from ledger.meta import ActorKind, EventMeta
from ledger.money import CurrencyMismatch, InvalidAmount, Money


class CreditGranted(MoneyMoved):
    TOPIC = "ledger.events:CreditGranted"
    credit: Credit

    def apply_to(self, account: AccountState) -> None:
        account.credits = {**account.credits, self.credit.credit_id: self.credit}


class CreditClosed(MoneyMoved):
    """Revoked by support, or expired: what remained of it is taken back."""

    TOPIC = "ledger.events:CreditClosed"
    credit_id: str
    status: CreditStatus

    def apply_to(self, account: AccountState) -> None:
        credit = account.credits[self.credit_id].closed(CreditStatus(self.status))
        account.credits = {**account.credits, self.credit_id: credit}


class Credits(AccountState):
    def grant_credit(
        self, credit_id: str, amount: Money, expires_at: datetime | None, meta: EventMeta
    ) -> None:
        if meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("credits are granted by support")
        self._require_open()
        if credit_id in self.credits:
            raise NothingToChange(f"credit {credit_id} exists")
        if amount.currency != self.profile.currency:
            raise CurrencyMismatch(
                f"credit in {amount.currency}, account in {self.profile.currency}"
            )
        amount.require_single_amount("a credit")
        if expires_at is not None and expires_at <= meta.occurred_at:
            raise InvalidAmount("a credit cannot expire in the past")
        self._grant_credit(credit_id, amount, expires_at, meta)

    def _grant_credit(
        self, credit_id: str, amount: Money, expires_at: datetime | None, meta: EventMeta
    ) -> None:
        credit = Credit(credit_id, amount, amount.amount, meta.occurred_at, expires_at)
        journal = JournalEntry.of((L.CREDITS_GRANTED, L.CUSTOMER_CREDIT, amount))
        self.trigger_event(CreditGranted, credit=credit, journal=journal, meta=meta)

    def revoke_credit(self, credit_id: str, meta: EventMeta) -> None:
        if meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("credits are revoked by support")
        self._close_credit(credit_id, CreditStatus.REVOKED, meta)

    def expire_credits(self, meta: EventMeta) -> list[str]:
        due = [c.credit_id for c in self.credits.values() if c.expired_by(meta.occurred_at)]
        for credit_id in due:
            self._close_credit(credit_id, CreditStatus.EXPIRED, meta)
        return due

    def _close_credit(self, credit_id: str, status: CreditStatus, meta: EventMeta) -> None:
        try:
            credit = self.credits[credit_id]
        except KeyError:
            raise CreditNotFound() from None
        credit.closed(status)  # raises if not active
        journal = JournalEntry.of((L.CUSTOMER_CREDIT, L.CREDITS_GRANTED, credit.available))
        self.trigger_event(
            CreditClosed, credit_id=credit_id, status=status, journal=journal, meta=meta
        )
