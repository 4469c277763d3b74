"""Customer credit: granted by support with a reason, applied at finalization (soonest
expiring first), revocable, and expiring."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ledger.errors import DomainError, ErrorKind
from ledger.money import Money
from ledger.values import Immutable


class CreditStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class CreditNotFound(DomainError):
    """No such credit on this account."""

    code = "credit_not_found"
    kind = ErrorKind.NOT_FOUND


class CreditNotActive(DomainError):
    """The credit is already revoked or expired."""

    code = "credit_not_active"
    kind = ErrorKind.REFUSED


@dataclass(frozen=True)
class Credit(Immutable):
    credit_id: str
    granted: Money
    remaining: int
    granted_at: datetime
    expires_at: datetime | None = None
    status: CreditStatus = CreditStatus.ACTIVE

    @property
    def available(self) -> Money:
        return Money(self.remaining if self.active else 0, self.granted.currency)

    @property
    def active(self) -> bool:
        return self.status is CreditStatus.ACTIVE

    def expired_by(self, now: datetime) -> bool:
        return self.active and self.expires_at is not None and now >= self.expires_at

    def used(self, amount: int) -> Credit:
        return replace(self, remaining=self.remaining - amount)

    def closed(self, status: CreditStatus) -> Credit:
        if not self.active:
            raise CreditNotActive(self.credit_id)
        return replace(self, status=status)


def allocate(credits: Iterable[Credit], amount_due: Money, now: datetime) -> dict[str, int]:
    """How much of each usable credit covers `amount_due`: soonest expiry first, then oldest."""
    usable = [
        c
        for c in credits
        if c.active and not c.expired_by(now) and c.granted.currency == amount_due.currency
    ]
    usable.sort(key=lambda c: (c.expires_at is None, c.expires_at or c.granted_at, c.granted_at))
    left, taken = amount_due.amount, {}
    for credit in usable:
        if left <= 0:
            break
        use = min(left, credit.remaining)
        if use > 0:
            taken[credit.credit_id] = use
            left -= use
    return taken
