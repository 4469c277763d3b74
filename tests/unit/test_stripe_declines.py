"""Stripe's decline codes in the ledger's terms: the domain decides hard or soft from the
recorded code, so the adapter must translate Stripe's permanent codes to the domain's."""

from __future__ import annotations

import pytest

from adapters.stripe.declines import PERMANENT, decline_of, ledger_decline_code
from ledger.payments import HARD_DECLINES, FailureKind, failure_kind

SHARED_HARD = [
    "expired_card",
    "incorrect_number",
    "invalid_account",
    "card_not_supported",
    "stolen_card",
    "lost_card",
    "pickup_card",
    "restricted_card",
    "fraudulent",
]
SOFT = [
    "card_declined",
    "generic_decline",
    "insufficient_funds",
    "processing_error",
    "try_again_later",
    "issuer_not_available",
    "card_velocity_exceeded",
    "withdrawal_count_exceeded",
    "authentication_required",
    "do_not_honor",
    "payment_intent_authentication_failure",
]


@pytest.mark.parametrize(("stripe_code", "ledger_code"), sorted(PERMANENT.items()))
def test_permanent_stripe_codes_become_hard_domain_codes(
    stripe_code: str, ledger_code: str
) -> None:
    assert ledger_decline_code(stripe_code) == ledger_code
    assert ledger_code in HARD_DECLINES
    assert failure_kind(ledger_decline_code(stripe_code)) is FailureKind.HARD


@pytest.mark.parametrize("code", SHARED_HARD)
def test_codes_stripe_and_the_domain_share_pass_unchanged_and_are_hard(code: str) -> None:
    assert ledger_decline_code(code) == code
    assert failure_kind(code) is FailureKind.HARD


@pytest.mark.parametrize("code", SOFT)
def test_transient_codes_are_recorded_as_stripe_gave_them_and_are_soft(code: str) -> None:
    assert ledger_decline_code(code) == code
    assert failure_kind(code) is FailureKind.SOFT


def test_the_issuers_decline_code_wins_over_the_generic_error_code() -> None:
    error = {"type": "card_error", "code": "card_declined", "decline_code": "stolen_card"}
    assert decline_of(error) == "stolen_card"
    assert decline_of({"code": "card_declined", "decline_code": "do_not_try_again"}) == (
        "do_not_honor_permanently"
    )


def test_an_error_code_alone_is_used_and_nothing_at_all_is_a_generic_decline() -> None:
    assert decline_of({"code": "expired_card"}) == "expired_card"
    assert decline_of({"code": "card_declined"}) == "card_declined"  # localstripe's only code
    assert decline_of({"message": "no code"}) == "card_declined"
    assert decline_of(None) == "card_declined"
    assert ledger_decline_code(None) == "card_declined"
