"""Amounts at Stripe: integers in Stripe's minor unit of the currency, which is not always
ISO 4217's (the ledger's). From Stripe's "Supported currencies" page (docs.stripe.com/currencies):

* zero-decimal currencies: the amount is in whole units (MGA is 2-decimal in ISO 4217, so
  the ledger's 12300 MGA is Stripe's 123, and the ledger's 12345 cannot be charged);
* ISK is zero-decimal in ISO 4217 but stays two-decimal in Stripe's API, in whole krónur
  only: the ledger's 500 ISK is Stripe's 50000 (must be divisible by 100);
* three-decimal currencies (BHD, JOD, KWD, OMR, TND) are three-decimal at Stripe too, but the
  last digit must be 0: 1.230 KWD is sent, 1.235 KWD is refused (Stripe says to round; the
  ledger never rounds an amount it owes or is owed);
* HUF and TWD are zero-decimal for Stripe payouts only; charges and refunds are two-decimal,
  as in ISO 4217, and the ledger makes no payouts.

Every conversion is exact or refused: `CurrencyNotSupportedByProcessor` for a currency whose
amounts Stripe does not define (IQD, LYD: three-decimal in ISO 4217, not on Stripe's
three-decimal list), `AmountNotRepresentable` for an amount with no exact Stripe form.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.ports import AmountNotRepresentable, CurrencyNotSupportedByProcessor
from ledger.iso import minor_unit_exponent
from ledger.money import Money

ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


@dataclass(frozen=True)
class StripeUnit:
    """How Stripe writes amounts of one currency: `exponent` decimal places, and every
    amount a multiple of `step` (ISK: 100, whole krónur; three-decimal: 10)."""

    exponent: int
    step: int = 1


def stripe_unit(currency: str) -> StripeUnit:
    if currency in ZERO_DECIMAL:
        return StripeUnit(0)
    if currency == "ISK":
        return StripeUnit(2, step=100)
    if currency in THREE_DECIMAL:
        return StripeUnit(3, step=10)
    if minor_unit_exponent(currency) != 2:
        raise CurrencyNotSupportedByProcessor(f"Stripe has no amounts in {currency}")
    return StripeUnit(2)


def to_stripe_amount(money: Money) -> int:
    """The ledger's minor units -> Stripe's integer amount, exactly, or refused."""
    unit = stripe_unit(money.currency)
    amount = _rescaled(money.amount, minor_unit_exponent(money.currency), unit.exponent)
    if amount is None or amount % unit.step:
        raise AmountNotRepresentable(
            f"{money.decimal_text()} {money.currency} cannot be sent to Stripe exactly"
        )
    return amount


def from_stripe_amount(amount: int, currency: str) -> Money:
    """Stripe's integer amount (as Stripe reports it: charges, refunds, disputes) -> the
    ledger's minor units; refused when it is not a whole number of them."""
    currency = currency.upper()
    minor = _rescaled(int(amount), stripe_unit(currency).exponent, minor_unit_exponent(currency))
    if minor is None:
        raise AmountNotRepresentable(
            f"Stripe's {amount} {currency} is not a whole number of {currency} minor units"
        )
    return Money(minor, currency)


def _rescaled(amount: int, from_exponent: int, to_exponent: int) -> int | None:
    """`amount` units of 10**-from_exponent in units of 10**-to_exponent; None if not whole."""
    factor: int = 10 ** abs(to_exponent - from_exponent)
    if to_exponent >= from_exponent:
        return amount * factor
    whole, rest = divmod(amount, factor)
    return None if rest else whole
