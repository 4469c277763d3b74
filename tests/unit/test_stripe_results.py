"""Stripe answers localstripe cannot give (issuer decline codes, an off-session 402
`authentication_required` carrying its PaymentIntent), turned into ChargeResults; and a
payment's disputes (localstripe has no Disputes API) turned into ProcessorDisputes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
import stripe

from adapters.stripe.charges import _declined, _rejected, _result_of
from adapters.stripe.gateway import StripeGateway
from adapters.stripe.payments import disputes_of
from commands.ports import (
    ChargeResult,
    DisputeState,
    ProcessorDispute,
    ProcessorPayment,
    ProcessorRefund,
    ProcessorUnavailable,
)
from ledger.payments import FailureKind, failure_kind


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


def test_a_currency_the_stripe_account_does_not_present_in_is_a_hard_decline() -> None:
    error = stripe.InvalidRequestError(  # type: ignore[no-untyped-call]
        "Invalid currency: xcg.", "currency", None, http_status=400
    )
    assert _rejected(error, "att-1") == ChargeResult(
        succeeded=False, decline_code="currency_not_supported_by_processor"
    )
    assert failure_kind("currency_not_supported_by_processor") is FailureKind.HARD
    assert failure_kind("amount_not_representable") is FailureKind.HARD


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


# --- disputes (localstripe has no Disputes API) -----------------------------------------


def listed(kind: str, *objects: dict[str, Any]) -> stripe.ListObject[Any]:
    page = {"object": "list", "has_more": False, "url": f"/v1/{kind}", "data": list(objects)}
    return stripe.ListObject.construct_from(page, "sk_test")


def stripe_dispute(dispute_id: str, status: str, amount: int = 1500) -> dict[str, Any]:
    return {"id": dispute_id, "object": "dispute", "status": status, "amount": amount}


class Answers:
    """A StripeClient's `v1` as far as find_payment asks it, answering constructed objects
    and counting the dispute listings."""

    def __init__(
        self,
        disputes: stripe.ListObject[Any],
        currency: str = "eur",
        captured: int = 5000,
        refunded: int = 500,
    ) -> None:
        self.disputes_asked: list[dict[str, Any]] = []
        answers = self

        class Intents:
            def retrieve(self, intent_id: str) -> stripe.PaymentIntent:
                return intent(id=intent_id, status="succeeded", amount=captured,
                              amount_received=captured, currency=currency)  # fmt: skip

        class Refunds:
            def list(self, params: dict[str, Any]) -> stripe.ListObject[Any]:
                return listed("refunds", {"id": "re_1", "object": "refund", "amount": refunded,
                                          "status": "succeeded", "metadata": {}})  # fmt: skip

        class Disputes:
            def list(self, params: dict[str, Any]) -> stripe.ListObject[Any]:
                answers.disputes_asked.append(params)
                return disputes

        self.payment_intents, self.refunds, self.disputes = Intents(), Refunds(), Disputes()


@dataclass
class Client:
    v1: Answers


def gateway_over(answers: Answers, *, disputes: bool) -> StripeGateway:
    return StripeGateway(cast(stripe.StripeClient, Client(answers)), disputes=disputes)


def test_stripe_dispute_statuses_map_to_chargebacks_and_inquiries_are_left_out() -> None:
    answer = listed(
        "disputes",
        stripe_dispute("dp_new", "needs_response"),
        stripe_dispute("dp_review", "under_review"),
        stripe_dispute("dp_won", "won"),
        stripe_dispute("dp_lost", "lost", 700),
        stripe_dispute("dp_inquiry", "warning_needs_response"),
        stripe_dispute("dp_inquiry_done", "warning_closed"),
        stripe_dispute("dp_prevented", "prevented"),
    )
    assert disputes_of(answer.auto_paging_iter(), "eur") == (
        ProcessorDispute("dp_new", DisputeState.OPEN, 1500),
        ProcessorDispute("dp_review", DisputeState.OPEN, 1500),
        ProcessorDispute("dp_won", DisputeState.WON, 1500),
        ProcessorDispute("dp_lost", DisputeState.LOST, 700),
    )


def test_find_payment_lists_the_intents_disputes_unless_disputes_are_not_asked() -> None:
    answers = Answers(listed("disputes", stripe_dispute("dp_1", "lost")))
    found = gateway_over(answers, disputes=True).find_payment("pi_1")
    assert found == ProcessorPayment(
        "pi_1",
        5000,
        "EUR",
        (ProcessorRefund("re_1", None, 500),),
        (ProcessorDispute("dp_1", DisputeState.LOST, 1500),),
    )
    assert answers.disputes_asked == [{"payment_intent": "pi_1", "limit": 100}]

    not_asked = Answers(listed("disputes"))
    found = gateway_over(not_asked, disputes=False).find_payment("pi_1")
    assert found is not None
    assert found.disputes is None
    assert not_asked.disputes_asked == []


@pytest.mark.parametrize(
    ("currency", "at_stripe", "in_the_ledger"),
    [
        # (captured, refunded, disputed) as Stripe reports them -> the ledger's minor units
        ("mga", (50, 5, 15), (5000, 500, 1500)),  # zero-decimal at Stripe, 2 in ISO 4217
        ("isk", (500000, 50000, 150000), (5000, 500, 1500)),  # 2 at Stripe, 0 in ISO 4217
        ("jpy", (5000, 500, 1500), (5000, 500, 1500)),
        ("kwd", (5000, 500, 1500), (5000, 500, 1500)),
    ],
)
def test_find_payment_reports_amounts_in_the_ledgers_minor_units(
    currency: str, at_stripe: tuple[int, int, int], in_the_ledger: tuple[int, int, int]
) -> None:
    captured, refunded, disputed = at_stripe
    answers = Answers(
        listed("disputes", stripe_dispute("dp_1", "lost", disputed)),
        currency=currency,
        captured=captured,
        refunded=refunded,
    )
    found = gateway_over(answers, disputes=True).find_payment("pi_1")
    assert found is not None
    assert found.disputes is not None
    assert (found.amount, found.refunds[0].amount, found.disputes[0].amount) == in_the_ledger
    assert found.currency == currency.upper()
