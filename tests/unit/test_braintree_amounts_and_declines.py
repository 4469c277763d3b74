"""Braintree amounts (exact, from integer minor units) and decline mapping (to the ledger's
hard and soft codes), without any network."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.braintree.amounts import from_braintree_amount, to_braintree_amount
from adapters.braintree.config import BraintreeConfig
from adapters.braintree.declines import (
    GENERIC_HARD,
    GENERIC_SOFT,
    INVALID_REQUEST,
    PROCESSOR_RESPONSES,
    gateway_rejection,
    processor_decline,
    validation_decline,
)
from ledger.money import InvalidAmount, Money
from ledger.payments import FailureKind, failure_kind


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1234, "USD", "12.34"),
        (5, "USD", "0.05"),
        (100, "EUR", "1.00"),
        (1, "GBP", "0.01"),
        (123456789012345678, "USD", "1234567890123456.78"),
        (1500, "JPY", "1500"),
        (150000, "HUF", "1500"),
    ],
)
def test_minor_units_become_braintree_decimal_strings(
    amount: int, currency: str, text: str
) -> None:
    assert to_braintree_amount(Money(amount, currency)) == text
    assert from_braintree_amount(text, currency) == Money(amount, currency)


@pytest.mark.parametrize("amount", [0, -100])
def test_only_positive_amounts_are_sent(amount: int) -> None:
    with pytest.raises(InvalidAmount):
        to_braintree_amount(Money(amount, "USD"))


@pytest.mark.parametrize(("text", "currency"), [("12.345", "USD"), ("1.5", "JPY"), ("abc", "USD")])
def test_amounts_that_are_not_whole_minor_units_are_refused(text: str, currency: str) -> None:
    with pytest.raises(InvalidAmount):
        from_braintree_amount(text, currency)


@given(
    amount=st.integers(min_value=1, max_value=10**15),
    currency=st.sampled_from(["USD", "JPY", "EUR", "GBP", "MXN"]),
)
def test_amounts_round_trip_exactly(amount: int, currency: str) -> None:
    text = to_braintree_amount(Money(amount, currency))
    assert "e" not in text.lower()
    assert from_braintree_amount(text, currency) == Money(amount, currency)


@pytest.mark.parametrize(
    ("code", "response_type", "expected", "kind"),
    [
        ("2046", "soft_declined", "declined", FailureKind.SOFT),
        ("2001", "soft_declined", "insufficient_funds", FailureKind.SOFT),
        ("2074", "soft_declined", "paypal_funding_declined", FailureKind.SOFT),
        ("3000", "soft_declined", "processor_network_unavailable", FailureKind.SOFT),
        ("2004", "hard_declined", "expired_card", FailureKind.HARD),
        ("2005", "hard_declined", "incorrect_number", FailureKind.HARD),
        ("2013", "hard_declined", "stolen_card", FailureKind.HARD),
        ("2075", "hard_declined", "account_closed", FailureKind.HARD),
        # Braintree's type decides when the table's name is of the other kind
        ("2046", "hard_declined", GENERIC_HARD, FailureKind.HARD),
        ("2004", "soft_declined", GENERIC_SOFT, FailureKind.SOFT),
        # codes the table does not know
        ("2099", "hard_declined", GENERIC_HARD, FailureKind.HARD),
        ("2099", "soft_declined", GENERIC_SOFT, FailureKind.SOFT),
        # no type in the answer: the table, else soft
        ("2004", None, "expired_card", FailureKind.HARD),
        ("2099", None, GENERIC_SOFT, FailureKind.SOFT),
        (None, None, GENERIC_SOFT, FailureKind.SOFT),
    ],
)
def test_processor_declines_map_to_ledger_codes_of_braintrees_kind(
    code: str | None, response_type: str | None, expected: str, kind: FailureKind
) -> None:
    decline = processor_decline(code, response_type)
    assert decline == expected
    assert failure_kind(decline) is kind


def test_every_named_response_is_a_code_the_ledger_classifies_as_intended() -> None:
    hard = {c for c, name in PROCESSOR_RESPONSES.items() if failure_kind(name) is FailureKind.HARD}
    assert hard == {
        "2004",
        "2005",
        "2006",
        "2007",
        "2012",
        "2013",
        "2014",
        "2044",
        "2047",
        "2057",
        "2075",
    }


@pytest.mark.parametrize(
    ("reason", "expected", "kind"),
    [
        ("fraud", "fraudulent", FailureKind.HARD),
        ("risk_threshold", "fraudulent", FailureKind.HARD),
        ("token_issuance", "invalid_payment_method", FailureKind.HARD),
        ("duplicate", "duplicate_transaction", FailureKind.SOFT),
        ("something_new", "gateway_rejected", FailureKind.SOFT),
    ],
)
def test_gateway_rejections(reason: str, expected: str, kind: FailureKind) -> None:
    assert gateway_rejection(reason) == expected
    assert failure_kind(expected) is kind


def test_validation_refusals_of_a_sale() -> None:
    assert validation_decline(["91518"]) == "invalid_payment_method"
    assert failure_kind("invalid_payment_method") is FailureKind.HARD
    assert validation_decline(["81502"]) == INVALID_REQUEST
    assert failure_kind(INVALID_REQUEST) is FailureKind.SOFT


def test_the_private_key_stays_out_of_reprs() -> None:
    config = BraintreeConfig("merchant", "public", "s3cr3t-private", environment="sandbox")
    assert "s3cr3t-private" not in repr(config)


def test_settings_are_checked_and_the_local_environment_is_plain_http() -> None:
    with pytest.raises(ValueError, match="port"):
        BraintreeConfig("m", "pub", "priv", environment="local")
    with pytest.raises(ValueError, match="environment"):
        BraintreeConfig("m", "pub", "priv", environment="staging")
    with pytest.raises(ValueError, match="required"):
        BraintreeConfig("m", "pub", "", environment="sandbox")
    local = BraintreeConfig("m", "pub", "priv", environment="local", port=4567)
    assert local.sdk_environment().base_url == "http://127.0.0.1:4567"


def test_currencies_pick_their_merchant_account() -> None:
    config = BraintreeConfig(
        "m", "pub", "priv", default_currency="USD", merchant_accounts={"EUR": "acct_eur"}
    )
    assert config.merchant_account_for("USD") is None
    assert config.merchant_account_for("EUR") == "acct_eur"
    with pytest.raises(LookupError):
        config.merchant_account_for("JPY")
