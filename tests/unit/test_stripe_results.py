"""Stripe answers localstripe cannot give (issuer decline codes, an off-session 402
`authentication_required` carrying its PaymentIntent), turned into ChargeResults."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from adapters.stripe.gateway import _declined, _result_of
from commands.ports import ChargeResult, ProcessorUnavailable


def card_error(error: dict[str, Any]) -> stripe.CardError:
    return stripe.CardError(  # type: ignore[no-untyped-call]
        error.get("message", "declined"),
        error.get("param"),
        error.get("code"),
        http_status=402,
        json_body={"error": {"type": "card_error", **error}},
    )


def intent(**fields: Any) -> stripe.PaymentIntent:
    return stripe.PaymentIntent.construct_from({"object": "payment_intent", **fields}, "sk_test")


def test_an_issuer_decline_is_recorded_with_the_issuers_code() -> None:
    error = card_error(
        {
            "code": "card_declined",
            "decline_code": "do_not_try_again",
            "payment_intent": {"id": "pi_1"},
        }
    )
    assert _declined(error) == ChargeResult(
        succeeded=False, processor_payment_id="pi_1", decline_code="do_not_honor_permanently"
    )


def test_an_off_session_authentication_required_surfaces_the_action() -> None:
    error = card_error(
        {
            "code": "authentication_required",
            "decline_code": "authentication_required",
            "payment_intent": {"id": "pi_2", "client_secret": "pi_2_secret_x"},
        }
    )
    assert _declined(error) == ChargeResult(
        succeeded=False,
        processor_payment_id="pi_2",
        decline_code="authentication_required",
        requires_action=True,
        client_secret="pi_2_secret_x",
    )


def test_a_failed_intent_found_later_gives_its_last_payment_error() -> None:
    failed = intent(
        id="pi_3",
        status="requires_payment_method",
        last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
    )
    assert _result_of(failed) == ChargeResult(
        succeeded=False, processor_payment_id="pi_3", decline_code="insufficient_funds"
    )
    assert _result_of(intent(id="pi_4", status="canceled")).decline_code == (
        "payment_intent_canceled"
    )


@pytest.mark.parametrize("status", ["processing", "requires_confirmation", "requires_capture"])
def test_an_intent_still_in_progress_has_no_outcome_yet(status: str) -> None:
    with pytest.raises(ProcessorUnavailable):
        _result_of(intent(id="pi_5", status=status))
