"""The simulated processor's magic cards answer as Stripe test mode's do: what happens when
each is saved (attached) and when it is charged on- and off-session."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.simulated.cards import Behaviour, magic_card, refuse_at_attach
from adapters.simulated.gateway import charge_outcome
from commands.ports import ChargeRequest, MethodDeclined
from ledger.money import Money
from ledger.payments import Processor


def request(on_session: bool) -> ChargeRequest:
    return ChargeRequest(
        attempt_id="att-1",
        processor=Processor.STRIPE,
        method_ref="pm_sim_x",
        customer_ref="cus_sim_x",
        amount=Money(2000, "USD"),
        on_session=on_session,
    )


def stored(token: str, *, authenticated: bool = False) -> dict[str, Any]:
    return {"kind": "card", "card_token": token, "authenticated": authenticated, "detached": False}


def outcome(number: str, on_session: bool, authenticated: bool = False) -> tuple[str, str | None]:
    card = magic_card(number)
    assert card is not None
    refuse_at_attach(card)
    return charge_outcome(stored(card.token, authenticated=authenticated), request(on_session))


@pytest.mark.parametrize("on_session", [True, False])
def test_4242_attaches_and_every_charge_succeeds(on_session: bool) -> None:
    assert outcome("4242424242424242", on_session) == ("succeeded", None)


@pytest.mark.parametrize("on_session", [True, False])
def test_0341_attaches_then_every_charge_is_declined(on_session: bool) -> None:
    assert outcome("4000000000000341", on_session) == ("failed", "card_declined")


def test_9995_is_refused_for_insufficient_funds_when_saved() -> None:
    card = magic_card("4000000000009995")
    assert card is not None
    with pytest.raises(MethodDeclined) as refused:
        refuse_at_attach(card)
    assert refused.value.decline_code == "insufficient_funds"


def test_0002_is_declined_when_saved() -> None:
    card = magic_card("4000000000000002")
    assert card is not None
    with pytest.raises(MethodDeclined) as refused:
        refuse_at_attach(card)
    assert refused.value.decline_code == "generic_decline"


@pytest.mark.parametrize("on_session", [True, False])
def test_3155_requires_authentication_unless_set_up_first(on_session: bool) -> None:
    assert outcome("4000002500003155", on_session) == ("requires_action", "authentication_required")


def test_3155_set_up_through_a_confirmed_setup_is_charged_off_session_without_3ds() -> None:
    assert outcome("4000002500003155", False, authenticated=True) == ("succeeded", None)
    assert outcome("4000002500003155", True, authenticated=True)[0] == "requires_action"


def test_cards_are_found_by_number_or_by_stripes_test_token() -> None:
    for number, token in [
        ("4242424242424242", "pm_card_visa"),
        ("4000000000000341", "pm_card_chargeCustomerFail"),
        ("4000000000009995", "pm_card_visa_chargeDeclinedInsufficientFunds"),
        ("4000002500003155", "pm_card_authenticationRequiredOnSetup"),
    ]:
        assert magic_card(number) == magic_card(token)
    visa = magic_card("pm_card_visa")
    assert visa is not None
    assert (visa.brand, visa.last4, visa.behaviour) == ("visa", "4242", Behaviour.SUCCEEDS)
    assert magic_card("4111111111111111") is None


def test_a_detached_or_unknown_method_is_declined_and_paypal_is_charged() -> None:
    gone = stored("pm_card_visa") | {"detached": True}
    assert charge_outcome(gone, request(False)) == ("failed", "invalid_payment_method")
    assert charge_outcome(None, request(False)) == ("failed", "invalid_payment_method")
    paypal = {"kind": "paypal", "card_token": None, "authenticated": False, "detached": False}
    assert charge_outcome(paypal, request(False)) == ("succeeded", None)
