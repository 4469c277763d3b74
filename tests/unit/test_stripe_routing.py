"""The routing gateway sends each request to its processor's adapter, and the composition
root keeps NoProcessor when no processor is configured."""

from __future__ import annotations

from pydantic import SecretStr

from adapters.processors import RoutingGateway, payment_gateway, stripe_connection
from adapters.settings import Settings
from adapters.stripe import StripeCharges, StripeConnection
from commands.base import PROCESSOR_NOT_CONFIGURED, NoProcessor
from commands.ports import ChargeRequest, RefundRequest
from ledger.money import Money
from ledger.payments import Processor
from tests.fakes.gateway import FakeGateway


def request(processor: Processor) -> ChargeRequest:
    return ChargeRequest("att-1", processor, "pm_1", "cus_1", Money(100, "USD"), False)


def test_requests_go_to_their_processors_gateway() -> None:
    stripe, braintree = FakeGateway(), FakeGateway()
    routing = RoutingGateway(stripe=stripe, braintree=braintree)
    assert routing.charge(request(Processor.STRIPE)).succeeded
    assert routing.charge(request(Processor.BRAINTREE)).succeeded
    refund = RefundRequest("ref-1", Processor.BRAINTREE, "pay_1", Money(50, "USD"))
    routing.refund(refund)
    assert [c.processor for c in stripe.charges] == [Processor.STRIPE]
    assert [c.processor for c in braintree.charges] == [Processor.BRAINTREE]
    assert (stripe.refunds, braintree.refunds) == ([], [refund])
    assert routing.find_charge("att-1", Processor.STRIPE) is not None
    assert routing.find_charge("att-2", Processor.STRIPE) is None


def test_a_processor_without_a_gateway_declines_as_not_configured() -> None:
    routing = RoutingGateway(stripe=FakeGateway())
    result = routing.charge(request(Processor.BRAINTREE))
    assert (result.succeeded, result.decline_code) == (False, PROCESSOR_NOT_CONFIGURED)


def test_nothing_configured_keeps_no_processor() -> None:
    settings = Settings(database_url="postgresql://unused", stripe_api_key=None)
    assert stripe_connection(settings) is None
    assert isinstance(payment_gateway(stripe=None), NoProcessor)


def test_a_stripe_key_builds_the_stripe_connection_without_showing_the_key() -> None:
    settings = Settings(
        database_url="postgresql://unused",
        stripe_api_key=SecretStr("sk_test_do_not_print"),
        stripe_api_base="http://127.0.0.1:1",
        stripe_lookup="list",
    )
    connection = stripe_connection(settings)
    assert isinstance(connection, StripeConnection)
    assert "sk_test_do_not_print" not in repr(connection)
    assert isinstance(payment_gateway(stripe=StripeCharges(connection)), RoutingGateway)
    assert "sk_test_do_not_print" not in repr(settings)
    assert "sk_test_do_not_print" not in str(settings.model_dump())
