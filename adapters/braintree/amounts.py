"""Amounts at Braintree: decimal strings in the merchant account's currency ("10.00", "1000"
for JPY). Converted exactly from integer minor units, never through a float.

This gateway charges PayPal accounts, so it takes PayPal's currencies with PayPal's
precision (PayPal REST "Currency codes" reference): two decimals, except HUF, JPY and TWD,
which take no decimals ("decimal amounts cause an error"). HUF and TWD are two-decimal in
ISO 4217, so the ledger's 12300 HUF is "123" and 12345 HUF cannot be sent. A currency PayPal
does not list (ISK, KWD, ...) is refused before anything is sent.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from commands.ports import AmountNotRepresentable, CurrencyNotSupportedByProcessor
from ledger.iso import minor_unit_exponent
from ledger.money import InvalidAmount, Money

# currency -> decimal places PayPal takes
TWO_DECIMALS = (
    "AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD ILS INR MXN MYR NOK NZD PHP PLN SEK SGD THB USD"
)
PAYPAL_DECIMALS: dict[str, int] = {
    **dict.fromkeys(TWO_DECIMALS.split(), 2),
    **dict.fromkeys("HUF JPY TWD".split(), 0),
}


def braintree_decimals(currency: str) -> int:
    """Decimal places Braintree takes in `currency`; refused when PayPal does not take it."""
    if currency not in PAYPAL_DECIMALS:
        raise CurrencyNotSupportedByProcessor(f"PayPal through Braintree does not take {currency}")
    return PAYPAL_DECIMALS[currency]


def to_braintree_amount(money: Money) -> str:
    """Minor units -> Braintree's decimal string. Only positive amounts are ever sent."""
    if money.amount <= 0:
        raise InvalidAmount(f"Braintree amounts are positive, got {money}")
    places = braintree_decimals(money.currency)
    drop = minor_unit_exponent(money.currency) - places
    if drop > 0 and money.amount % 10**drop:
        raise AmountNotRepresentable(
            f"{money.decimal_text()} {money.currency} has more decimals than PayPal takes"
        )
    return f"{Decimal(money.amount).scaleb(-minor_unit_exponent(money.currency)):.{places}f}"


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
