"""Money: integer minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import DomainError, ErrorKind
from ledger.iso import CURRENCIES, minor_unit_exponent
from ledger.values import Immutable

# The most one payment, refund or credit can move, in minor units: what Stripe accepts in
# one amount ("up to eight digits", 99,999,999: $999,999.99), and below Braintree's limits.
# A caller's amount above it is refused before anything is recorded or charged. `Money`
# itself takes any integer, so an old event with a larger amount still loads.
MAX_AMOUNT = 99_999_999


class CurrencyMismatch(DomainError):
    """Amounts in different currencies cannot be combined."""

    code = "currency_mismatch"
    kind = ErrorKind.INVALID


class InvalidAmount(DomainError):
    """The amount is not valid."""

    code = "invalid_amount"
    kind = ErrorKind.INVALID


@dataclass(frozen=True, order=False)
class Money(Immutable):
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise InvalidAmount(f"amounts are integer minor units, got {self.amount!r}")
        if self.currency not in CURRENCIES:
            raise InvalidAmount(f"unknown ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def require_single_amount(self, what: str) -> Money:
        """Itself if it is one positive amount a processor can move (at most `MAX_AMOUNT`)."""
        if not 0 < self.amount <= MAX_AMOUNT:
            raise InvalidAmount(f"{what} must be 1 to {MAX_AMOUNT} minor units, got {self.amount}")
        return self

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def _same(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")
        return other

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} (minor units)"

    def decimal_text(self, grouping: bool = False) -> str:
        """The amount in major units as the currency writes it, exactly (never through a
        float): 123456 USD -> "1234.56" ("1,234.56" with grouping), 1500 JPY -> "1500",
        1234 KWD -> "1.234"."""
        exponent = minor_unit_exponent(self.currency)
        sign, units = ("-" if self.amount < 0 else ""), abs(self.amount)
        major, minor = divmod(units, 10**exponent)
        whole = f"{major:,}" if grouping else str(major)
        return f"{sign}{whole}.{minor:0{exponent}d}" if exponent else f"{sign}{whole}"


def prorate(amount: Money, used: int, total: int) -> Money:
    """The part of `amount` for `used` out of `total` units of time, rounded half away from
    zero to the minor unit (so a credit and a charge for complementary parts always add up to
    the whole, see `split`)."""
    if total <= 0 or not 0 <= used <= total:
        raise InvalidAmount(f"cannot prorate {used} of {total}")
    numerator = amount.amount * used
    quotient, remainder = divmod(abs(numerator), total)
    if remainder * 2 >= total:
        quotient += 1
    return Money(quotient if numerator >= 0 else -quotient, amount.currency)


def split(amount: Money, used: int, total: int) -> tuple[Money, Money]:
    """(used part, unused part) of `amount`; the two always sum to `amount` exactly."""
    used_part = prorate(amount, used, total)
    return used_part, amount - used_part
