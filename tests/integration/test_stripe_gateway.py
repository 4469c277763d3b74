"""The Stripe adapter through the official SDK against a real localstripe: customers, card
vaulting, charges, declines, 3-D Secure, refunds, finding a charge again, an outage with
the circuit breaker, and a collection through the real command handlers and event store."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import stripe
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.processors import RoutingGateway
from adapters.settings import Settings
from adapters.stripe import Guard, RetryPolicy, StripeGateway
from adapters.stripe.resilience import BreakerPolicy
from commands import accounts, refunds, vaulting
from commands.base import load_account
from commands.models import AddVaultedCard, RefundPayment
from commands.ports import (
    ChargeRequest,
    MethodDeclined,
    ProcessorPayment,
    ProcessorRefund,
    ProcessorRefused,
    ProcessorUnavailable,
    ProviderCustomerNotFound,
    RefundRequest,
)
from ledger.invoices import InvoiceStatus
from ledger.money import Money
from ledger.payments import AttemptStatus, FailureKind, Processor, failure_kind
from tests.fakes.billing import subscribe
from tests.fakes.builders import customer_ctx, open_cmd, support_ctx
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer, running_localstripe

VISA = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"  # attaches, then every charge is declined
DECLINED_AT_ATTACH = "4000000000000002"
THREE_D_SECURE = "4000002500003155"  # every charge needs the customer to authenticate
PRICE = 2000  # pro-monthly-usd
FAST = RetryPolicy(attempts=2, timeout_s=5, wait_initial_s=0.01, wait_max_s=0.02, wait_jitter_s=0)


class RecordingHttpClient(stripe.RequestsClient):
    """The SDK's own HTTP client, recording each request; optionally it loses the response
    of the next matching request after the server has processed it (a timeout)."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.sent: list[tuple[str, str, dict[str, str]]] = []
        self.lose_response_of: tuple[str, str] | None = None

    def request(  # type: ignore[override]  # RequestsClient narrows the signature
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        self.sent.append((method.upper(), url, dict(headers or {})))
        answer = super().request(method, url, headers, post_data)
        if self.lose_response_of == (method.upper(), url.split("?")[0]):
            self.lose_response_of = None
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                "Request timed out", should_retry=True
            )
        return answer

    def posts_to(self, path: str) -> list[dict[str, str]]:
        return [h for m, url, h in self.sent if m == "POST" and url.split("?")[0].endswith(path)]


def sdk_client(
    server: LocalStripeServer, http: stripe.HTTPClient | None = None
) -> stripe.StripeClient:
    return stripe.StripeClient(
        server.api_key,
        base_addresses={"api": server.url},
        max_network_retries=0,
        http_client=http or stripe.RequestsClient(timeout=10),
    )


@pytest.fixture
def http() -> RecordingHttpClient:
    return RecordingHttpClient()


@pytest.fixture
def sdk(localstripe: LocalStripeServer, http: RecordingHttpClient) -> stripe.StripeClient:
    return sdk_client(localstripe, http)


@pytest.fixture
def stripe_gw(sdk: stripe.StripeClient) -> StripeGateway:
    return StripeGateway(sdk, lookup="list", guard=Guard(retry=FAST))


def card(sdk: stripe.StripeClient, number: str = VISA) -> str:
    """A PaymentMethod as Stripe.js would create it in the customer's browser."""
    method = sdk.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    return method.id


def vaulted(gw: StripeGateway, sdk: stripe.StripeClient, number: str = VISA) -> tuple[str, str]:
    customer = gw.create_customer(str(uuid4()), "Ada Lovelace", "ada@example.com")
    method = card(sdk, number)
    gw.attach_card(customer, method)
    gw.set_default_card(customer, method)
    return customer, method


def charge_request(
    method: str, customer: str | None, *, on_session: bool = False, attempt_id: str | None = None
) -> ChargeRequest:
    return ChargeRequest(
        attempt_id=attempt_id or str(uuid4()),
        processor=Processor.STRIPE,
        method_ref=method,
        customer_ref=customer,
        amount=Money(PRICE, "USD"),
        on_session=on_session,
    )


# --- customers and cards ---------------------------------------------------------------


def test_a_customer_is_created_once_per_account_updated_and_read_back(
    stripe_gw: StripeGateway,
) -> None:
    account_id = str(uuid4())
    customer = stripe_gw.create_customer(account_id, "Ada Lovelace", "ada@example.com")
    assert customer.startswith("cus_")
    assert stripe_gw.create_customer(account_id, "Ada Lovelace", "ada@example.com") == customer
    assert stripe_gw.create_customer(str(uuid4()), "Grace Hopper", "g@example.com") != customer
    stripe_gw.update_customer(customer, name="Ada King", email="ada.king@example.com")
    found = stripe_gw.get_customer(customer)
    assert found is not None
    assert (found.customer_id, found.account_id) == (customer, account_id)
    assert (found.name, found.email, found.default_method_ref) == (
        "Ada King",
        "ada.king@example.com",
        None,
    )
    assert stripe_gw.get_customer("cus_unknown") is None
    with pytest.raises(ProviderCustomerNotFound):
        stripe_gw.update_customer("cus_unknown", name="Nobody")


def test_a_card_is_vaulted_through_a_setup_intent_and_becomes_the_default(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer = stripe_gw.create_customer(str(uuid4()), "Ada Lovelace", "ada@example.com")
    setup = stripe_gw.start_card_setup(customer, str(uuid4()))
    assert (setup.status, setup.client_secret.startswith(setup.setup_id)) == (
        "requires_payment_method",
        True,
    )
    method = card(sdk)
    # the browser confirms the SetupIntent with the card (Stripe.js, client secret)
    confirmed = sdk.v1.setup_intents.confirm(setup.setup_id, {"payment_method": method})
    assert confirmed.status == "succeeded"
    vaulted_card = stripe_gw.attach_card(customer, method)
    assert (vaulted_card.method_ref, vaulted_card.customer_ref, vaulted_card.last4) == (
        method,
        customer,
        "4242",
    )
    assert (vaulted_card.brand, vaulted_card.exp_month, vaulted_card.exp_year) == ("visa", 12, 2030)
    stripe_gw.set_default_card(customer, method)
    found = stripe_gw.get_customer(customer)
    assert found is not None
    assert found.default_method_ref == method
    stripe_gw.detach_card(method)
    stripe_gw.detach_card(method)  # idempotent
    assert sdk.v1.payment_methods.retrieve(method).customer is None


def test_a_card_declined_when_vaulted_is_refused_with_its_code(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer = stripe_gw.create_customer(str(uuid4()), "Ada Lovelace", "ada@example.com")
    with pytest.raises(MethodDeclined) as refused:
        stripe_gw.attach_card(customer, card(sdk, DECLINED_AT_ATTACH))
    assert (refused.value.code, refused.value.decline_code) == (
        "payment_method_declined",
        "card_declined",
    )


# --- charges ---------------------------------------------------------------------------


def test_an_off_session_charge_succeeds_keyed_and_tagged_by_its_attempt_id(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient, http: RecordingHttpClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk)
    request = charge_request(method, customer)
    result = stripe_gw.charge(request)
    assert result.succeeded
    assert (result.decline_code, result.requires_action) == (None, False)
    assert result.processor_payment_id is not None
    intent = sdk.v1.payment_intents.retrieve(result.processor_payment_id)
    assert (intent.status, intent.amount, intent.currency, intent.customer) == (
        "succeeded",
        PRICE,
        "usd",
        customer,
    )
    assert intent.payment_method == method
    assert intent.metadata.to_dict() == {"attempt_id": request.attempt_id}
    [sent] = http.posts_to("/v1/payment_intents")
    assert sent["Idempotency-Key"] == request.attempt_id


def test_an_on_session_charge_succeeds(stripe_gw: StripeGateway, sdk: stripe.StripeClient) -> None:
    customer, method = vaulted(stripe_gw, sdk)
    assert stripe_gw.charge(charge_request(method, customer, on_session=True)).succeeded


def test_a_card_declined_at_charge_is_a_soft_decline_and_is_found_again(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk, DECLINED_AT_CHARGE)
    request = charge_request(method, customer)
    result = stripe_gw.charge(request)
    assert (result.succeeded, result.decline_code, result.requires_action) == (
        False,
        "card_declined",
        False,
    )
    assert failure_kind("card_declined") is FailureKind.SOFT
    found = stripe_gw.find_charge(request.attempt_id, Processor.STRIPE)
    assert found is not None
    assert (found.succeeded, found.decline_code) == (False, "card_declined")
    assert found.processor_payment_id is not None


def test_a_charge_that_needs_3d_secure_is_surfaced_and_never_a_success(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk, THREE_D_SECURE)
    request = charge_request(method, customer, on_session=True)
    result = stripe_gw.charge(request)
    assert (result.succeeded, result.requires_action, result.decline_code) == (
        False,
        True,
        "authentication_required",
    )
    assert result.processor_payment_id is not None
    assert result.client_secret is not None
    assert result.client_secret.startswith(result.processor_payment_id)
    assert sdk.v1.payment_intents.retrieve(result.processor_payment_id).status == (
        "requires_action"
    )
    found = stripe_gw.find_charge(request.attempt_id, Processor.STRIPE)
    assert found == result


def test_find_charge_returns_the_earlier_result_and_none_for_an_unknown_attempt(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk)
    requests = [charge_request(method, customer) for _ in range(3)]
    results = [stripe_gw.charge(r) for r in requests]
    for request, result in zip(requests, results, strict=True):
        assert stripe_gw.find_charge(request.attempt_id, Processor.STRIPE) == result
    assert stripe_gw.find_charge(str(uuid4()), Processor.STRIPE) is None


def test_a_charge_whose_response_is_lost_is_looked_up_not_sent_again(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient, http: RecordingHttpClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk)
    request = charge_request(method, customer)
    http.lose_response_of = ("POST", f"{sdk_url(sdk)}/v1/payment_intents")
    result = stripe_gw.charge(request)
    assert http.lose_response_of is None  # the response was lost...
    assert result.succeeded  # ...and the charge found by its attempt id
    assert len(http.posts_to("/v1/payment_intents")) == 1
    lookups = [u for m, u, _ in http.sent if m == "GET" and "/v1/payment_intents" in u]
    assert lookups
    intents = sdk.v1.payment_intents.list({"limit": 100}).data
    assert [i.id for i in intents] == [result.processor_payment_id]


def sdk_url(sdk: stripe.StripeClient) -> str:
    return str(sdk._requestor.base_addresses["api"])


# --- refunds ---------------------------------------------------------------------------


def test_a_refund_is_made_once_per_refund_id(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient, http: RecordingHttpClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk)
    payment = stripe_gw.charge(charge_request(method, customer)).processor_payment_id
    assert payment is not None
    first = RefundRequest(str(uuid4()), Processor.STRIPE, payment, Money(500, "USD"))
    refund_id = stripe_gw.refund(first)
    assert refund_id.startswith("re_")
    assert stripe_gw.refund(first) == refund_id  # a retried request refunds nothing more
    second = stripe_gw.refund(
        RefundRequest(str(uuid4()), Processor.STRIPE, payment, Money(700, "USD"))
    )
    assert second != refund_id
    refunds = sdk.v1.refunds.list({"payment_intent": payment}).data
    assert sorted(r.amount for r in refunds) == [500, 700]
    assert first.refund_id in {r.to_dict()["metadata"].get("refund_id") for r in refunds}
    keys = [h["Idempotency-Key"] for h in http.posts_to("/v1/refunds")]
    assert keys[0] == first.refund_id
    assert len(keys) == 2


def test_a_payment_is_found_with_its_refunds_and_disputes_only_where_they_can_be_listed(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk)
    payment = stripe_gw.charge(charge_request(method, customer)).processor_payment_id
    assert payment is not None
    refund = RefundRequest(str(uuid4()), Processor.STRIPE, payment, Money(500, "USD"))
    refund_id = stripe_gw.refund(refund)
    no_disputes = StripeGateway(sdk, lookup="list", disputes=False, guard=Guard(retry=FAST))
    assert no_disputes.find_payment(payment) == ProcessorPayment(
        payment, PRICE, "USD", (ProcessorRefund(refund_id, refund.refund_id, 500),), None
    )
    with pytest.raises(ProcessorUnavailable, match="list_disputes"):  # localstripe has none
        stripe_gw.find_payment(payment)


def test_a_refund_stripe_refuses_is_a_processor_refusal(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient
) -> None:
    customer, method = vaulted(stripe_gw, sdk, DECLINED_AT_CHARGE)
    request = charge_request(method, customer)
    stripe_gw.charge(request)
    found = stripe_gw.find_charge(request.attempt_id, Processor.STRIPE)
    assert found is not None
    assert found.processor_payment_id is not None
    refund = RefundRequest(
        str(uuid4()), Processor.STRIPE, found.processor_payment_id, Money(1, "USD")
    )
    with pytest.raises(ProcessorRefused) as refused:
        stripe_gw.refund(refund)
    assert refused.value.code == "processor_refused"


# --- an outage -------------------------------------------------------------------------


def test_a_stopped_localstripe_is_unavailable_and_opens_the_breaker(tmp_path: Path) -> None:
    http = RecordingHttpClient()
    with running_localstripe(tmp_path / "outage") as server:
        sdk = sdk_client(server, http)
        guard = Guard(retry=FAST, breaker=BreakerPolicy(fail_max=3, reset_timeout_s=60))
        gw = StripeGateway(sdk, lookup="list", guard=guard)
        customer, method = vaulted(gw, sdk)
        assert gw.charge(charge_request(method, customer)).succeeded
    # localstripe is stopped: nothing answers on its port any more
    request = charge_request(method, customer)
    with pytest.raises(ProcessorUnavailable):
        gw.charge(request)
    assert len(http.posts_to("/v1/payment_intents")) == 2  # the charge was never re-sent
    with pytest.raises(ProcessorUnavailable):
        gw.find_charge(request.attempt_id, Processor.STRIPE)
    assert guard.is_open
    sent = len(http.sent)
    began = time.monotonic()
    for call in (
        lambda: gw.charge(charge_request(method, customer)),
        lambda: gw.find_charge(request.attempt_id, Processor.STRIPE),
        lambda: gw.get_customer(customer),
    ):
        with pytest.raises(ProcessorUnavailable, match="circuit open"):
            call()
    assert time.monotonic() - began < 0.5  # fails fast
    assert len(http.sent) == sent  # without asking Stripe


# --- through the commands --------------------------------------------------------------


def stripe_settings(database_url: str, localstripe: LocalStripeServer, **extra: Any) -> Settings:
    """A test database and localstripe (which cannot search: charges are found by listing)."""
    return Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        pool_size=4,
        stripe_api_key=SecretStr(localstripe.api_key),
        stripe_api_base=localstripe.url,
        stripe_lookup="list",
        stripe_disputes=False,
        **extra,
    )


@pytest.fixture
def stripe_container(
    database_url: str, clock: FixedClock, localstripe: LocalStripeServer
) -> Iterator[Container]:
    built = build(stripe_settings(database_url, localstripe), clock=clock)
    yield built
    built.close()


def stripe_account(
    container: Container, sdk: stripe.StripeClient, number: str = VISA
) -> tuple[UUID, str, str]:
    """An account whose Stripe customer (synced) and default card (vaulted) are at
    localstripe and recorded in the ledger, through the vaulting commands."""
    deps = container.deps
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    add = AddVaultedCard(account_id=account_id, payment_method=card(sdk, number))
    vaulting.add_vaulted_card(deps, add, customer_ctx())
    account = load_account(deps.app, account_id)
    (method,) = account.methods.values()
    return account_id, account.provider_customers["stripe"], method.processor_ref


def test_a_collection_through_the_commands_records_stripes_payment_id(
    stripe_container: Container, localstripe: LocalStripeServer
) -> None:
    assert isinstance(stripe_container.deps.gateway, RoutingGateway)
    sdk = sdk_client(localstripe)
    account_id, customer, method = stripe_account(stripe_container, sdk)
    result = subscribe(stripe_container.deps, account_id, on_session=False)
    assert result.payment is not None
    assert result.payment.status is AttemptStatus.SUCCEEDED
    account = load_account(stripe_container.app, account_id)
    attempt = account.attempts[result.payment.attempt_id]
    assert attempt.processor is Processor.STRIPE
    assert attempt.processor_payment_id is not None
    assert attempt.processor_payment_id.startswith("pi_")
    intent = sdk.v1.payment_intents.retrieve(attempt.processor_payment_id)
    assert (intent.status, intent.amount, intent.customer, intent.payment_method) == (
        "succeeded",
        PRICE,
        customer,
        method,
    )
    assert intent.metadata.to_dict() == {
        "attempt_id": attempt.attempt_id,
        "account_id": str(account_id),
    }
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.PAID
    kinds = [e.event_type for e in stripe_container.reader.read_after(0, 100)]
    assert kinds[-2:] == ["PaymentAttemptStarted", "PaymentSucceeded"]

    refund = RefundPayment(account_id=account_id, attempt_id=attempt.attempt_id, amount=500)
    refunds.refund_payment(stripe_container.deps, refund, support_ctx("refund", uuid4()))
    [made] = sdk.v1.refunds.list({"payment_intent": attempt.processor_payment_id}).data
    assert made.amount == 500
    assert (
        load_account(stripe_container.app, account_id).attempts[attempt.attempt_id].refunded == 500
    )


def test_a_declined_collection_through_the_commands_is_a_soft_failure_left_to_dunning(
    stripe_container: Container, localstripe: LocalStripeServer
) -> None:
    sdk = sdk_client(localstripe)
    account_id, _, _ = stripe_account(stripe_container, sdk, DECLINED_AT_CHARGE)
    result = subscribe(stripe_container.deps, account_id, on_session=False)
    assert result.payment is not None
    assert (result.payment.status, result.payment.decline_code) == (
        AttemptStatus.FAILED,
        "card_declined",
    )
    account = load_account(stripe_container.app, account_id)
    assert account.attempts[result.payment.attempt_id].failure is FailureKind.SOFT
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.OPEN
