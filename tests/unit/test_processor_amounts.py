"""Every currency the ledger can hold, at each processor: ISO 4217 minor units -> the
processor's amount -> back, exactly, or refused with a typed code before anything is sent.

The expected amounts are written out per currency from the processors' documentation
(adapters/stripe/amounts.py, adapters/braintree/amounts.py), never computed by the code under
test; a currency added to ledger/iso.py fails here until it has its row."""

from __future__ import annotations

import pytest

from adapters.braintree.amounts import from_braintree_amount, to_braintree_amount
from adapters.stripe.amounts import from_stripe_amount, to_stripe_amount
from commands.ports import AmountNotRepresentable, CurrencyNotSupportedByProcessor
from ledger.iso import CURRENCIES
from ledger.money import Money

REFUSED = None  # the processor does not take the currency

# ISO 4217 two-decimal currencies that Stripe also writes with two decimals (HUF and TWD
# among them: their zero-decimal rule at Stripe is for payouts only).
STRIPE_TWO_DECIMAL = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL
    MAD MDL MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK
    PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XAD XCD XCG YER ZAR ZMW ZWG
""".split()

# currency -> (ISO minor units, Stripe amount) for the same sum, or REFUSED
STRIPE: dict[str, tuple[int, int] | None] = {
    **dict.fromkeys(STRIPE_TWO_DECIMAL, (12300, 12300)),
    # zero-decimal in ISO 4217 and at Stripe: 123 units are 123
    "BIF": (123, 123),
    "CLP": (123, 123),
    "DJF": (123, 123),
    "GNF": (123, 123),
    "JPY": (123, 123),
    "KMF": (123, 123),
    "KRW": (123, 123),
    "PYG": (123, 123),
    "RWF": (123, 123),
    "UGX": (123, 123),
    "VND": (123, 123),
    "VUV": (123, 123),
    "XAF": (123, 123),
    "XOF": (123, 123),
    "XPF": (123, 123),
    # two-decimal in ISO 4217, zero-decimal at Stripe: 123.00 ariary is 123
    "MGA": (12300, 123),
    # zero-decimal in ISO 4217, two-decimal at Stripe (whole krónur): 123 krónur is 12300
    "ISK": (123, 12300),
    # three-decimal at both, the last digit 0 at Stripe: 12.340 is 12340
    "BHD": (12340, 12340),
    "JOD": (12340, 12340),
    "KWD": (12340, 12340),
    "OMR": (12340, 12340),
    "TND": (12340, 12340),
    # three-decimal in ISO 4217 and not on Stripe's three-decimal list
    "IQD": REFUSED,
    "LYD": REFUSED,
}

PAYPAL_TWO_DECIMAL = """
    AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD ILS INR MXN MYR NOK NZD PHP PLN SEK SGD THB USD
""".split()

# currency -> (ISO minor units, Braintree's decimal string), or REFUSED: PayPal's currencies
BRAINTREE: dict[str, tuple[int, str] | None] = {
    **dict.fromkeys(CURRENCIES, REFUSED),
    **dict.fromkeys(PAYPAL_TWO_DECIMAL, (12345, "123.45")),
    "JPY": (123, "123"),  # zero-decimal in ISO 4217 and at PayPal
    "HUF": (12300, "123"),  # two-decimal in ISO 4217, no decimals at PayPal
    "TWD": (12300, "123"),
}


def test_every_currency_the_ledger_holds_has_a_row_for_each_processor() -> None:
    assert set(STRIPE) == CURRENCIES
    assert set(BRAINTREE) == CURRENCIES


@pytest.mark.parametrize("currency", sorted(STRIPE))
def test_stripe_amounts_per_currency(currency: str) -> None:
    row = STRIPE[currency]
    if row is REFUSED:
        with pytest.raises(CurrencyNotSupportedByProcessor):
            to_stripe_amount(Money(1000, currency))
        return
    minor, at_stripe = row
    assert to_stripe_amount(Money(minor, currency)) == at_stripe
    assert from_stripe_amount(at_stripe, currency.lower()) == Money(minor, currency)


@pytest.mark.parametrize("currency", sorted(BRAINTREE))
def test_braintree_amounts_per_currency(currency: str) -> None:
    row = BRAINTREE[currency]
    if row is REFUSED:
        with pytest.raises(CurrencyNotSupportedByProcessor):
            to_braintree_amount(Money(1000, currency))
        return
    minor, text = row
    assert to_braintree_amount(Money(minor, currency)) == text
    assert from_braintree_amount(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("minor", "currency"),
    [
        (12345, "MGA"),  # 123.45 ariary: Stripe takes whole ariary
        (12345, "KWD"),  # 12.345 dinar: Stripe wants the last digit 0
        (1, "BHD"),
        (5, "TND"),
    ],
)
def test_stripe_refuses_amounts_it_cannot_take_exactly(minor: int, currency: str) -> None:
    with pytest.raises(AmountNotRepresentable):
        to_stripe_amount(Money(minor, currency))


@pytest.mark.parametrize(
    ("at_stripe", "currency"),
    [
        (50050, "isk"),  # 500.50 krónur: no such ISO amount (and Stripe refuses it too)
        (1, "isk"),
    ],
)
def test_a_stripe_amount_with_no_exact_ledger_form_is_refused(
    at_stripe: int, currency: str
) -> None:
    with pytest.raises(AmountNotRepresentable):
        from_stripe_amount(at_stripe, currency)


@pytest.mark.parametrize(("minor", "currency"), [(12345, "HUF"), (1, "TWD"), (50, "HUF")])
def test_braintree_refuses_decimals_paypal_does_not_take(minor: int, currency: str) -> None:
    with pytest.raises(AmountNotRepresentable):
        to_braintree_amount(Money(minor, currency))


def test_refusals_carry_stable_codes() -> None:
    assert CurrencyNotSupportedByProcessor.code == "currency_not_supported_by_processor"
    assert AmountNotRepresentable.code == "amount_not_representable"
