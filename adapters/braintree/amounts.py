"""Amounts at Braintree: decimal strings in the merchant account's currency ("10.00",
"1000" for JPY, "1.234" for KWD). Converted exactly from integer minor units, never
through a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ledger.iso import minor_unit_exponent
from ledger.money import InvalidAmount, Money


def to_braintree_amount(money: Money) -> str:
    """Minor units -> Braintree's decimal string. Only positive amounts are ever sent."""
    if money.amount <= 0:
        raise InvalidAmount(f"Braintree amounts are positive, got {money}")
    return money.decimal_text()


def from_braintree_amount(value: str | Decimal, currency: str) -> Money:
    """Braintree's decimal -> minor units; refuses a value with more digits than the
    currency's minor unit instead of rounding it."""
    try:
        scaled = Decimal(str(value)).scaleb(minor_unit_exponent(currency))
    except InvalidOperation:
        raise InvalidAmount(f"not a Braintree amount: {value!r}") from None
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise InvalidAmount(f"{value!r} is not a whole number of {currency} minor units")
    return Money(int(scaled), currency)
