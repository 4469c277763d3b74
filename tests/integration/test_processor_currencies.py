"""Currencies whose processor amounts are not ISO 4217's, through the official SDKs: at
localstripe (JPY zero-decimal, ISK two-decimal in whole krónur, MGA zero-decimal, KWD
three-decimal ending in 0) and at our local Braintree gateway (PayPal's currencies: JPY, HUF
without decimals; ISK and KWD not taken). Each goes out in the processor's units, comes back
in the ledger's, and what a processor cannot take is declined before anything is sent."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import stripe
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.braintree import BraintreeClient, BraintreeConfig, BraintreeGateway
from adapters.braintree.vault import BraintreePayPalVault
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.settings import Settings
from adapters.stripe import Guard, RetryPolicy, StripeGateway
from commands import accounts, billing, refunds, vaulting
from commands.base import load_account
from commands.models import AddVaultedCard, RefundPayment, Subscribe
from commands.ports import (
    AmountNotRepresentable,
    ChargeRequest,
    CurrencyNotSupportedByProcessor,
    ProcessorPayment,
    ProcessorRefund,
    RefundRequest,
)
from ledger.money import Money
from ledger.payments import AttemptStatus, FailureKind, Processor
from tests.braintree_gateway import (
    BILLING_AGREEMENT_NONCE,
    MERCHANT_ACCOUNTS,
    LocalBraintreeGateway,
)
from tests.fakes.builders import customer_ctx, open_cmd, support_ctx
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer
from tests.integration.test_stripe_webhook_refunds_disputes import charge_of, deliver, event
from tests.integration.test_stripe_webhooks import SECRET

FAST = RetryPolicy(attempts=2, timeout_s=5, wait_initial_s=0.01, wait_max_s=0.02, wait_jitter_s=0)
VISA = "4242424242424242"


# --- Stripe (localstripe) -----------------------------------------------------------------


class RecordingHttpClient(stripe.RequestsClient):
    """The SDK's own HTTP client, recording the path of each POST."""

    def __init__(self) -> None:
        super().__init__(timeout=10)
        self.posted: list[str] = []

    def request(  # type: ignore[override]  # RequestsClient narrows the signature
        self, method: str, url: str, headers: object, post_data: object = None
    ) -> object:
        if method.upper() == "POST":
            self.posted.append(url.split("?")[0].split("/v1/", 1)[-1])
        return super().request(method, url, headers, post_data)  # type: ignore[arg-type]


@pytest.fixture
def http() -> RecordingHttpClient:
    return RecordingHttpClient()


@pytest.fixture
def sdk(localstripe: LocalStripeServer, http: RecordingHttpClient) -> stripe.StripeClient:
    return stripe.StripeClient(
        localstripe.api_key,
        base_addresses={"api": localstripe.url},
        max_network_retries=0,
        http_client=http,
    )


@pytest.fixture
def stripe_gw(sdk: stripe.StripeClient) -> StripeGateway:
    return StripeGateway(sdk, lookup="list", disputes=False, guard=Guard(retry=FAST))


def new_card(sdk: stripe.StripeClient) -> str:
    """A PaymentMethod as Stripe.js would create it in the customer's browser."""
    return sdk.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": VISA, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    ).id


def card_of_a_customer(gw: StripeGateway, sdk: stripe.StripeClient) -> tuple[str, str]:
    customer = gw.create_customer(str(uuid4()), "Ada Lovelace", "ada@example.com")
    method = new_card(sdk)
    gw.attach_card(customer, method)
    return customer, method


def stripe_charge(customer: str, method: str, amount: Money) -> ChargeRequest:
    return ChargeRequest(str(uuid4()), Processor.STRIPE, method, customer, amount, False)


@pytest.mark.parametrize(
    ("currency", "charged", "at_stripe", "refunded", "refunded_at_stripe"),
    [
        ("JPY", 1500, 1500, 200, 200),  # zero-decimal in both
        ("ISK", 500, 50000, 100, 10000),  # ISO 0 decimals, Stripe 2 (whole krónur)
        ("MGA", 150000, 1500, 20000, 200),  # ISO 2 decimals, Stripe 0
        ("KWD", 12340, 12340, 1230, 1230),  # three decimals, the last one 0
    ],
)
def test_stripe_charges_and_refunds_in_its_units_and_reports_back_in_the_ledgers(
    stripe_gw: StripeGateway,
    sdk: stripe.StripeClient,
    currency: str,
    charged: int,
    at_stripe: int,
    refunded: int,
    refunded_at_stripe: int,
) -> None:
    customer, method = card_of_a_customer(stripe_gw, sdk)
    result = stripe_gw.charge(stripe_charge(customer, method, Money(charged, currency)))
    assert result.succeeded
    assert result.processor_payment_id is not None
    intent = sdk.v1.payment_intents.retrieve(result.processor_payment_id)
    assert (intent.amount, intent.currency) == (at_stripe, currency.lower())

    refund = RefundRequest(
        str(uuid4()), Processor.STRIPE, result.processor_payment_id, Money(refunded, currency)
    )
    refund_id = stripe_gw.refund(refund)
    [made] = sdk.v1.refunds.list({"payment_intent": result.processor_payment_id}).data
    assert made.amount == refunded_at_stripe

    assert stripe_gw.find_payment(result.processor_payment_id) == ProcessorPayment(
        result.processor_payment_id,
        charged,
        currency,
        (ProcessorRefund(refund_id, refund.refund_id, refunded),),
        None,
    )


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Money(12345, "KWD"), "amount_not_representable"),  # 12.345: Stripe wants ...0
        (Money(12345, "MGA"), "amount_not_representable"),  # 123.45 ariary: whole only
        (Money(12340, "IQD"), "currency_not_supported_by_processor"),
    ],
)
def test_stripe_declines_what_it_cannot_take_before_sending_anything(
    stripe_gw: StripeGateway,
    sdk: stripe.StripeClient,
    http: RecordingHttpClient,
    amount: Money,
    code: str,
) -> None:
    customer, method = card_of_a_customer(stripe_gw, sdk)
    result = stripe_gw.charge(stripe_charge(customer, method, amount))
    assert (result.succeeded, result.decline_code, result.processor_payment_id) == (
        False,
        code,
        None,
    )
    assert "payment_intents" not in http.posted
    assert sdk.v1.payment_intents.list({"limit": 100}).data == []


def test_a_stripe_refund_it_cannot_take_is_refused_before_sending_it(
    stripe_gw: StripeGateway, sdk: stripe.StripeClient, http: RecordingHttpClient
) -> None:
    customer, method = card_of_a_customer(stripe_gw, sdk)
    paid = stripe_gw.charge(stripe_charge(customer, method, Money(12340, "KWD")))
    assert paid.processor_payment_id is not None
    refund = RefundRequest("ref-1", Processor.STRIPE, paid.processor_payment_id, Money(5, "KWD"))
    with pytest.raises(AmountNotRepresentable):
        stripe_gw.refund(refund)
    assert "refunds" not in http.posted


# --- through the commands: the refusal is a hard decline on the attempt -------------------

PLANS = [
    {"plan_id": "pro-isk", "product": "Pro", "interval_months": 1, "amount": 2500,
     "currency": "ISK"},
    {"plan_id": "pro-kwd", "product": "Pro", "interval_months": 1, "amount": 12345,
     "currency": "KWD"},
]  # fmt: skip


@pytest.fixture
def container(
    database_url: str, clock: FixedClock, localstripe: LocalStripeServer, tmp_path: Path
) -> Iterator[Container]:
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps(PLANS))
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        pool_size=4,
        plans_file=plans,
        stripe_api_key=SecretStr(localstripe.api_key),
        stripe_api_base=localstripe.url,
        stripe_lookup="list",
        stripe_disputes=False,
        stripe_webhook_secret=SecretStr(SECRET),
    )
    built = build(settings, clock=clock)
    yield built
    built.close()


def subscribed(container: Container, sdk: stripe.StripeClient, plan: str, currency: str) -> UUID:
    deps = container.deps
    account_id = accounts.open_account(deps, open_cmd(currency=currency), customer_ctx()).account_id
    method = new_card(sdk)
    vaulting.add_vaulted_card(
        deps, AddVaultedCard(account_id=account_id, payment_method=method), customer_ctx()
    )
    billing.subscribe(
        deps, Subscribe(account_id=account_id, plan_id=plan, on_session=False), customer_ctx()
    )
    return account_id


def test_a_krona_collection_and_refund_through_the_commands(
    container: Container, sdk: stripe.StripeClient
) -> None:
    account_id = subscribed(container, sdk, "pro-isk", "ISK")
    [attempt] = load_account(container.app, account_id).attempts.values()
    assert (attempt.status, attempt.amount) == (AttemptStatus.SUCCEEDED, Money(2500, "ISK"))
    assert attempt.processor_payment_id is not None
    intent = sdk.v1.payment_intents.retrieve(attempt.processor_payment_id)
    assert (intent.amount, intent.currency) == (250000, "isk")

    refund = RefundPayment(account_id=account_id, attempt_id=attempt.attempt_id, amount=300)
    refunds.refund_payment(container.deps, refund, support_ctx("refund", uuid4()))
    [made] = sdk.v1.refunds.list({"payment_intent": attempt.processor_payment_id}).data
    assert made.amount == 30000
    refunded = load_account(container.app, account_id).attempts[attempt.attempt_id].refunded
    assert refunded == 300


def test_an_amount_stripe_cannot_take_is_a_hard_decline_and_nothing_is_charged(
    container: Container, sdk: stripe.StripeClient, http: RecordingHttpClient
) -> None:
    account_id = subscribed(container, sdk, "pro-kwd", "KWD")
    [attempt] = load_account(container.app, account_id).attempts.values()
    assert (attempt.status, attempt.decline_code, attempt.failure) == (
        AttemptStatus.FAILED,
        "amount_not_representable",
        FailureKind.HARD,
    )
    assert attempt.processor_payment_id is None
    assert sdk.v1.payment_intents.list({"limit": 100}).data == []


def test_stripe_refund_and_dispute_webhooks_record_krona_in_the_ledgers_units(
    container: Container, sdk: stripe.StripeClient
) -> None:
    account_id = subscribed(container, sdk, "pro-isk", "ISK")
    [attempt] = load_account(container.app, account_id).attempts.values()
    intent_id = attempt.processor_payment_id
    assert intent_id is not None
    made = sdk.v1.refunds.create({"payment_intent": intent_id, "amount": 20000})  # dashboard
    charge_id = str(charge_of(sdk, intent_id)["id"])
    disputed = {"id": "dp_1", "object": "dispute", "amount": 150000, "currency": "isk",
                "status": "needs_response", "charge": charge_id, "payment_intent": intent_id,
                "reason": "fraudulent", "metadata": {}}  # fmt: skip

    with TestClient(create_app(container, ApiKeys([]))) as client:
        assert deliver(client, event("refund.created", made.to_dict())) == "recorded"
        assert deliver(client, event("charge.dispute.created", disputed)) == "recorded"

    attempt = load_account(container.app, account_id).attempts[attempt.attempt_id]
    assert (attempt.refunded, attempt.disputed_amount) == (200, 1500)  # krónur


# --- Braintree (our local gateway, PayPal's currencies) -----------------------------------

ACCOUNTS = MERCHANT_ACCOUNTS  # the session's local gateway has one in each currency here
SALE = r"/transactions"


@pytest.fixture
def bt_client(braintree_server: LocalBraintreeGateway) -> BraintreeClient:
    config = BraintreeConfig(
        merchant_id=braintree_server.merchant_id,
        public_key=braintree_server.public_key,
        private_key=braintree_server.private_key,
        environment="local",
        port=braintree_server.port,
        merchant_accounts={currency: account for account, currency in ACCOUNTS.items()},
    )
    return BraintreeClient.from_config(dataclasses.replace(config, retry_wait_initial_s=0.01))


@pytest.fixture
def token(bt_client: BraintreeClient) -> str:
    vault = BraintreePayPalVault(bt_client)
    vault.create_customer("acct-1", "Ada Lovelace", "ada@example.com")
    return vault.vault_nonce("acct-1", BILLING_AGREEMENT_NONCE, method_ref="pp-1").method_ref


def bt_charge(token: str, amount: Money) -> ChargeRequest:
    return ChargeRequest(str(uuid4()), Processor.BRAINTREE, token, "acct-1", amount, False)


def bt_refund(refund_id: str, payment_id: str, amount: Money) -> RefundRequest:
    return RefundRequest(refund_id, Processor.BRAINTREE, payment_id, amount)


@pytest.mark.parametrize(
    ("currency", "charged", "text", "refunded", "refunded_text"),
    [
        ("JPY", 1500, "1500", 200, "200"),
        ("HUF", 150000, "1500", 20000, "200"),  # ISO 2 decimals, PayPal none
    ],
)
def test_braintree_sells_and_refunds_in_paypals_precision_and_reports_back(
    bt_client: BraintreeClient,
    token: str,
    currency: str,
    charged: int,
    text: str,
    refunded: int,
    refunded_text: str,
) -> None:
    gateway = BraintreeGateway(bt_client)
    paid = gateway.charge(bt_charge(token, Money(charged, currency)))
    assert paid.succeeded
    assert paid.processor_payment_id is not None
    sale = bt_client.sdk.transaction.find(paid.processor_payment_id)
    assert (str(sale.amount), sale.currency_iso_code) == (text, currency)

    bt_client.sdk.testing.settle_transaction(paid.processor_payment_id)
    refund = bt_refund("ref-1", paid.processor_payment_id, Money(refunded, currency))
    credit_id = gateway.refund(refund)
    assert str(bt_client.sdk.transaction.find(credit_id).amount) == refunded_text

    assert gateway.find_payment(paid.processor_payment_id) == ProcessorPayment(
        paid.processor_payment_id,
        charged,
        currency,
        (ProcessorRefund(credit_id, "ref-1", refunded),),
        (),
    )


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (Money(12345, "HUF"), "amount_not_representable"),  # 123.45 forint: PayPal whole only
        (Money(500, "ISK"), "currency_not_supported_by_processor"),
        (Money(12340, "KWD"), "currency_not_supported_by_processor"),
    ],
)
def test_braintree_declines_what_paypal_cannot_take_before_sending_anything(
    bt_client: BraintreeClient,
    braintree_server: LocalBraintreeGateway,
    token: str,
    amount: Money,
    code: str,
) -> None:
    result = BraintreeGateway(bt_client).charge(bt_charge(token, amount))
    assert (result.succeeded, result.decline_code) == (False, code)
    assert braintree_server.calls.count("POST", SALE) == 0


def test_a_braintree_refund_paypal_cannot_take_is_refused_before_sending_it(
    bt_client: BraintreeClient, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    gateway = BraintreeGateway(bt_client)
    paid = gateway.charge(bt_charge(token, Money(150000, "HUF")))
    assert paid.processor_payment_id is not None
    bt_client.sdk.testing.settle_transaction(paid.processor_payment_id)
    with pytest.raises(AmountNotRepresentable):
        gateway.refund(bt_refund("ref-1", paid.processor_payment_id, Money(50, "HUF")))
    with pytest.raises(CurrencyNotSupportedByProcessor):
        gateway.refund(bt_refund("ref-2", paid.processor_payment_id, Money(5, "ISK")))
    assert braintree_server.calls.count("POST", r"/transactions/[^/]+/refund") == 0
