"""The console's acting through the support surface (adapters/http/console/acting.py):
the handler and scope of a support route, the action's correlation id, the rate limit, and
amounts as a person types them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID

import pytest
from fastapi import Request

from adapters.http.auth import Principal
from adapters.http.common import ReasonBody
from adapters.http.console.act_facts import method_label, minor_units
from adapters.http.console.acting import (
    Acting,
    Parsed,
    Unclear,
    correlation_for,
    reason_of,
    support_handler,
)
from adapters.http.console.pages import ConsoleRefused
from adapters.http.console.sessions import ConsoleSession
from adapters.http.ratelimit import RateLimited
from adapters.http.surface import Call, scope_of
from adapters.http.surfaces import SUPPORT
from ledger.meta import ActorKind
from ledger.methods import MethodKind, PaymentMethod

ADA = Principal(id="agent-ada", kind=ActorKind.SUPPORT)
ADA_ACCOUNT = UUID(int=1)


@pytest.mark.parametrize(
    ("operation", "scope"),
    [
        ("support_recompute", "accounts:write"),
        ("pay", "billing:write"),
        ("revoke", "billing:write"),
    ],
)
def test_a_support_routes_handler_and_the_scope_its_route_needs(operation: str, scope: str) -> None:
    assert scope_of(support_handler(operation)) == scope


def test_an_operation_the_support_surface_lacks_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        support_handler("run")  # the billing run is the service surface's


def test_an_actions_correlation_is_the_same_for_its_key_and_another_principals_differs() -> None:
    other = Principal(id="agent-bob", kind=ActorKind.SUPPORT)
    assert correlation_for(ADA, "k1") == correlation_for(ADA, "k1")
    assert correlation_for(ADA, "k1") != correlation_for(ADA, "k2")
    assert correlation_for(ADA, "k1") != correlation_for(other, "k1")


def test_a_reason_of_spaces_is_no_reason() -> None:
    with pytest.raises(Unclear, match="Give a reason"):
        reason_of({"reason": ["   "]})
    assert reason_of({"reason": [" why "]}) == "why"


@pytest.mark.parametrize(
    ("text", "currency", "units"),
    [("12.50", "USD", 1250), ("1,234.5", "USD", 123450), ("500", "JPY", 500), ("7", "USD", 700)],
)
def test_an_amount_in_minor_units(text: str, currency: str, units: int) -> None:
    assert minor_units(text, currency) == units


@pytest.mark.parametrize(("text", "currency"), [("12.505", "USD"), ("1.5", "JPY"), ("ten", "USD")])
def test_an_amount_the_currency_cannot_hold_is_unclear(text: str, currency: str) -> None:
    with pytest.raises(Unclear):
        minor_units(text, currency)


def test_an_action_over_the_rate_limit_is_refused_with_a_page_and_not_run() -> None:
    ran: list[Any] = []

    class Limiter:
        def check(self, key: str, scope: dict[str, Any]) -> None:
            assert (key, scope) == ("support:agent-ada", {"type": "http"})
            raise RateLimited(7)

    app = SimpleNamespace(state=SimpleNamespace(rate_limiter=Limiter()))
    request = cast(Request, SimpleNamespace(app=app, scope={"type": "http"}))
    call = Call(ADA, cast(Any, None), SUPPORT, correlation_for(ADA, "k"), request, "k")
    acting = Acting(cast(Any, None), lambda **kw: ran.append(kw), call)
    session = ConsoleSession("s", "agent-ada", "t", 0.0)
    with pytest.raises(ConsoleRefused) as refused:
        acting.run(ADA_ACCOUNT, Parsed(ReasonBody(reason="why")), session)
    assert (refused.value.status, refused.value.hint, ran) == (429, "Try again in 7 s.", [])


def test_a_method_as_a_person_knows_it() -> None:
    card = PaymentMethod(
        method_id="m1",
        kind=MethodKind.CARD,
        processor_ref="pm_1",
        added_seq=1,
        brand="visa",
        last4="4242",
        exp_month=3,
        exp_year=2031,
    )
    paypal = PaymentMethod(
        method_id="m2",
        kind=MethodKind.PAYPAL,
        processor_ref="tok",
        added_seq=2,
        payer_email="payer@example.com",
    )
    assert method_label(card) == "visa ending 4242, expires 03/2031"
    assert method_label(paypal) == "PayPal payer@example.com"
