"""The Braintree adapter through the official SDK against our local Braintree gateway:
PayPal vaulting, sales with declines, idempotent charges and refunds, and outages."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from decimal import Decimal

import braintree
import pytest
import requests
from prometheus_client import REGISTRY

from adapters.braintree import (
    BraintreeClient,
    BraintreeConfig,
    BraintreeGateway,
    BraintreePayPalVault,
)
from commands.paypal_ports import (
    PayPalCustomerNotFound,
    PayPalMethodNotFound,
    PayPalVaultRefused,
    RefundRefused,
)
from commands.ports import (
    ChargeRequest,
    DisputeState,
    ProcessorDispute,
    ProcessorPayment,
    ProcessorRefund,
    ProcessorUnavailable,
    RefundRequest,
)
from ledger.money import Money
from ledger.payments import FailureKind, Processor, failure_kind
from tests.braintree_gateway import (
    BILLING_AGREEMENT_NONCE,
    ONE_TIME_NONCE,
    LocalBraintreeGateway,
    running_braintree_gateway,
)

SALE = r"/transactions"
SEARCH = r"/transactions/advanced_search_ids"


def config_for(gateway: LocalBraintreeGateway, **overrides: object) -> BraintreeConfig:
    config = BraintreeConfig(
        merchant_id=gateway.merchant_id,
        public_key=gateway.public_key,
        private_key=gateway.private_key,
        environment="local",
        port=gateway.port,
        timeout_s=0.5,
        merchant_accounts={"JPY": "local_jpy"},
        retry_attempts=3,
        retry_wait_initial_s=0.01,
        retry_wait_max_s=0.02,
        retry_timeout_s=5,
        breaker_fail_max=50,
        breaker_reset_s=0.3,
    )
    return dataclasses.replace(config, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def client(braintree_server: LocalBraintreeGateway) -> BraintreeClient:
    return BraintreeClient.from_config(config_for(braintree_server))


@pytest.fixture
def gateway(client: BraintreeClient) -> BraintreeGateway:
    return BraintreeGateway(client)


@pytest.fixture
def vault(client: BraintreeClient) -> BraintreePayPalVault:
    return BraintreePayPalVault(client)


@pytest.fixture
def token(vault: BraintreePayPalVault) -> str:
    vault.create_customer("acct-1", "Ada Lovelace", "ada@example.com")
    return vault.vault_nonce("acct-1", BILLING_AGREEMENT_NONCE, method_ref="pp-1").method_ref


def charge(token: str, amount: int, attempt: str = "att-1", currency: str = "USD") -> ChargeRequest:
    return ChargeRequest(
        attempt_id=attempt,
        processor=Processor.BRAINTREE,
        method_ref=token,
        customer_ref="acct-1",
        amount=Money(amount, currency),
        on_session=False,
    )


def refund(payment_id: str, amount: int, refund_id: str = "ref-1") -> RefundRequest:
    return RefundRequest(refund_id, Processor.BRAINTREE, payment_id, Money(amount, "USD"))


# customers ---------------------------------------------------------------------------------
def test_customers_are_created_once_found_and_updated(vault: BraintreePayPalVault) -> None:
    assert vault.create_customer("acct-1", "Ada Lovelace", "ada@example.com") == "acct-1"
    assert vault.create_customer("acct-1", "Ada Lovelace", "ada@example.com") == "acct-1"

    vault.update_customer("acct-1", email="ada@lovelace.example")

    found = vault.find_customer("acct-1")
    assert found is not None
    assert (found.name, found.email, found.method_refs) == (
        "Ada Lovelace",
        "ada@lovelace.example",
        (),
    )
    assert vault.find_customer("nobody") is None
    with pytest.raises(PayPalCustomerNotFound):
        vault.update_customer("nobody", email="x@example.com")


def test_an_invalid_customer_is_refused_with_braintree_codes(vault: BraintreePayPalVault) -> None:
    with pytest.raises(PayPalVaultRefused) as refused:
        vault.create_customer("acct-2", "Bob", "not-an-email")
    assert refused.value.processor_codes == ("81604",)


# vaulting ----------------------------------------------------------------------------------
def test_a_billing_agreement_nonce_vaults_on_the_correct_path(
    vault: BraintreePayPalVault,
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")

    vaulted = vault.vault_nonce("acct-1", BILLING_AGREEMENT_NONCE, method_ref="pp-1")

    assert vaulted.is_billing_agreement
    assert vaulted.billing_agreement_id is not None
    assert vaulted.billing_agreement_id.startswith("B-")
    assert (vaulted.method_ref, vaulted.customer_id, vaulted.is_default) == ("pp-1", "acct-1", True)
    assert vault.find_method("pp-1") == vaulted
    customer = vault.find_customer("acct-1")
    assert customer is not None
    assert customer.default_method_ref == "pp-1"


def test_a_one_time_nonce_vaults_without_a_billing_agreement(
    vault: BraintreePayPalVault,
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")

    vaulted = vault.vault_nonce("acct-1", ONE_TIME_NONCE, method_ref="pp-legacy")

    assert not vaulted.is_billing_agreement
    assert vaulted.billing_agreement_id is None


def test_vaulting_refusals_and_a_repeated_vaulting(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    with pytest.raises(PayPalVaultRefused) as unknown:
        vault.vault_nonce("acct-1", "no-such-nonce", method_ref="pp-1")
    assert unknown.value.processor_codes == ("93108",)
    with pytest.raises(PayPalCustomerNotFound):
        vault.vault_nonce("nobody", BILLING_AGREEMENT_NONCE, method_ref="pp-1")

    nonce = braintree_server.mint_nonce(billing_agreement=True)
    first = vault.vault_nonce("acct-1", nonce, method_ref="pp-1")
    assert vault.vault_nonce("acct-1", nonce, method_ref="pp-1") == first  # a repeat
    with pytest.raises(PayPalVaultRefused) as spent:
        vault.vault_nonce("acct-1", nonce, method_ref="pp-2")
    assert spent.value.processor_codes == ("93107",)


def test_a_vaulting_whose_answer_is_lost_is_looked_up(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    nonce = braintree_server.mint_nonce(billing_agreement=True)
    braintree_server.lose_responses(method="POST", path=r"/payment_methods", times=1)

    vaulted = vault.vault_nonce("acct-1", nonce, method_ref="pp-1")

    assert vaulted.is_billing_agreement
    assert braintree_server.calls.count("POST", r"/payment_methods") == 1


def test_default_method_and_deleting(vault: BraintreePayPalVault) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    vault.vault_nonce("acct-1", BILLING_AGREEMENT_NONCE, method_ref="pp-1")
    vault.vault_nonce("acct-1", BILLING_AGREEMENT_NONCE, method_ref="pp-2")

    vault.make_default("pp-2")
    customer = vault.find_customer("acct-1")
    assert customer is not None
    assert (customer.default_method_ref, set(customer.method_refs)) == ("pp-2", {"pp-1", "pp-2"})

    vault.delete_method("pp-2")
    vault.delete_method("pp-2")  # already gone: fine
    assert vault.find_method("pp-2") is None
    with pytest.raises(PayPalMethodNotFound):
        vault.make_default("pp-2")


def test_client_tokens(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")

    payload = json.loads(base64.b64decode(vault.client_token("acct-1")))

    assert (payload["merchantId"], payload["customerId"], payload["version"]) == (
        braintree_server.merchant_id,
        "acct-1",
        2,
    )
    assert vault.client_token()
    with pytest.raises(PayPalCustomerNotFound):
        vault.client_token("nobody")


# sales ---------------------------------------------------------------------------------------
def test_a_sale_charges_the_exact_amount_with_the_attempt_as_order_id(
    gateway: BraintreeGateway, client: BraintreeClient, token: str
) -> None:
    result = gateway.charge(charge(token, 1234))

    assert result.succeeded
    assert result.decline_code is None
    assert result.processor_payment_id is not None
    sale = client.sdk.transaction.find(result.processor_payment_id)
    assert (str(sale.amount), sale.currency_iso_code, sale.order_id, sale.status) == (
        "12.34",
        "USD",
        "att-1",
        "submitted_for_settlement",
    )
    assert sale.paypal_details.token == token


def test_a_sale_in_another_currency_goes_to_its_merchant_account(
    gateway: BraintreeGateway, client: BraintreeClient, token: str
) -> None:
    result = gateway.charge(charge(token, 1500, currency="JPY"))

    sale = client.sdk.transaction.find(result.processor_payment_id)
    assert (str(sale.amount), sale.currency_iso_code, sale.merchant_account_id) == (
        "1500",
        "JPY",
        "local_jpy",
    )


def test_a_currency_without_a_merchant_account_is_not_sent(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    result = gateway.charge(charge(token, 1500, currency="EUR"))

    assert (result.succeeded, result.decline_code) == (False, "currency_not_supported")
    assert braintree_server.calls.count("POST", SALE) == 0


@pytest.mark.parametrize(
    ("amount", "code", "kind"),
    [
        (204600, "declined", FailureKind.SOFT),
        (200100, "insufficient_funds", FailureKind.SOFT),
        (300000, "processor_network_unavailable", FailureKind.SOFT),
        (200400, "expired_card", FailureKind.HARD),
        (200500, "incorrect_number", FailureKind.HARD),
        (204700, "pickup_card", FailureKind.HARD),
        (207500, "account_closed", FailureKind.HARD),
        (500100, "fraudulent", FailureKind.HARD),
    ],
)
def test_declines_map_to_the_ledgers_hard_and_soft_codes(
    gateway: BraintreeGateway, token: str, amount: int, code: str, kind: FailureKind
) -> None:
    result = gateway.charge(charge(token, amount))

    assert (result.succeeded, result.decline_code) == (False, code)
    assert failure_kind(code) is kind


def test_an_unknown_token_is_a_hard_decline_and_nothing_is_charged(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway
) -> None:
    result = gateway.charge(charge("no-such-token", 1000))

    assert (result.succeeded, result.decline_code) == (False, "invalid_payment_method")
    assert braintree_server.state.transactions == {}


def test_a_token_of_another_customer_is_not_charged(
    gateway: BraintreeGateway,
    vault: BraintreePayPalVault,
    braintree_server: LocalBraintreeGateway,
    token: str,
) -> None:
    vault.create_customer("acct-2", "Bob", "bob@example.com")
    request = dataclasses.replace(charge(token, 1000), customer_ref="acct-2")

    result = gateway.charge(request)

    assert (result.succeeded, result.decline_code) == (False, "invalid_payment_method")
    assert braintree_server.state.transactions == {}


def test_find_charge_returns_the_earlier_outcome_or_none(
    gateway: BraintreeGateway, token: str
) -> None:
    paid = gateway.charge(charge(token, 1000, attempt="att-paid"))
    declined = gateway.charge(charge(token, 204600, attempt="att-declined"))

    assert gateway.find_charge("att-paid", Processor.BRAINTREE) == paid
    assert gateway.find_charge("att-declined", Processor.BRAINTREE) == declined
    assert gateway.find_charge("att-never-sent", Processor.BRAINTREE) is None


def test_charging_an_attempt_again_returns_its_outcome_without_a_second_sale(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    first = gateway.charge(charge(token, 1000))

    assert gateway.charge(charge(token, 1000)) == first
    assert braintree_server.calls.count("POST", SALE) == 1


def test_a_sale_whose_answer_is_lost_is_looked_up_never_resent(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    braintree_server.lose_responses(method="POST", path=SALE, times=1)

    result = gateway.charge(charge(token, 1000))

    assert result.succeeded
    assert braintree_server.calls.count("POST", SALE) == 1
    assert len(braintree_server.state.transactions) == 1


def test_a_sale_without_answer_and_not_found_stays_unknown(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    braintree_server.hang(method="POST", path=SALE)  # never processed, never answered

    with pytest.raises(ProcessorUnavailable):
        gateway.charge(charge(token, 1000))
    assert braintree_server.calls.count("POST", SALE) == 1


# refunds -------------------------------------------------------------------------------------
def test_refunds_of_a_settled_sale_are_idempotent_per_refund_id(
    gateway: BraintreeGateway,
    client: BraintreeClient,
    braintree_server: LocalBraintreeGateway,
    token: str,
) -> None:
    paid = gateway.charge(charge(token, 1000))
    assert paid.processor_payment_id is not None
    client.sdk.testing.settle_transaction(paid.processor_payment_id)

    refund_id = gateway.refund(refund(paid.processor_payment_id, 250))

    assert gateway.refund(refund(paid.processor_payment_id, 250)) == refund_id
    credit = client.sdk.transaction.find(refund_id)
    assert (credit.type, str(credit.amount), credit.refunded_transaction_id) == (
        "credit",
        "2.50",
        paid.processor_payment_id,
    )
    assert braintree_server.calls.count("POST", r"/transactions/[^/]+/refund") == 1
    with pytest.raises(RefundRefused):
        gateway.refund(refund(paid.processor_payment_id, 800, refund_id="ref-2"))


def test_an_unsettled_sale_is_voided_in_full_but_not_refunded_in_part(
    gateway: BraintreeGateway, client: BraintreeClient, token: str
) -> None:
    paid = gateway.charge(charge(token, 1000))
    assert paid.processor_payment_id is not None

    with pytest.raises(RefundRefused):
        gateway.refund(refund(paid.processor_payment_id, 400))
    assert gateway.refund(refund(paid.processor_payment_id, 1000, "ref-2")) == (
        paid.processor_payment_id
    )
    assert client.sdk.transaction.find(paid.processor_payment_id).status == "voided"
    assert gateway.find_charge("att-1", Processor.BRAINTREE) == paid


def test_refunding_an_unknown_transaction_is_refused(gateway: BraintreeGateway) -> None:
    with pytest.raises(RefundRefused):
        gateway.refund(refund("nosuchtx", 100))


# payments for reconciliation ----------------------------------------------------------------
def test_a_sale_is_found_with_its_refunds_by_whom_and_its_disputes(
    gateway: BraintreeGateway,
    client: BraintreeClient,
    braintree_server: LocalBraintreeGateway,
    token: str,
) -> None:
    paid = gateway.charge(charge(token, 1000))
    sale_id = paid.processor_payment_id
    assert sale_id is not None
    assert gateway.find_payment(sale_id) == ProcessorPayment(sale_id, 1000, "USD", (), ())
    client.sdk.testing.settle_transaction(sale_id)
    ours = gateway.refund(refund(sale_id, 250))
    theirs = client.sdk.transaction.refund(sale_id, "1.50").transaction.id  # control panel
    dispute_id = braintree_server.open_dispute(sale_id)

    found = gateway.find_payment(sale_id)
    assert found is not None
    assert found.refunds == (
        ProcessorRefund(ours, "ref-1", 250),
        ProcessorRefund(theirs, None, 150),  # it kept the sale's order id, the attempt id
    )
    assert found.disputes == (ProcessorDispute(dispute_id, DisputeState.OPEN, 1000),)
    braintree_server.close_dispute(dispute_id, won=False)
    lost = gateway.find_payment(sale_id)
    assert lost is not None
    assert lost.disputes == (ProcessorDispute(dispute_id, DisputeState.LOST, 1000),)


def test_a_voided_sale_is_the_whole_payment_refunded_and_an_unknown_one_is_none(
    gateway: BraintreeGateway, token: str
) -> None:
    paid = gateway.charge(charge(token, 1000))
    assert paid.processor_payment_id is not None
    gateway.refund(refund(paid.processor_payment_id, 1000))  # unsettled: a void
    found = gateway.find_payment(paid.processor_payment_id)
    assert found is not None
    assert found.refunds == (ProcessorRefund(paid.processor_payment_id, None, 1000, voided=True),)
    assert gateway.find_payment("nosuchtx") is None


def test_a_yen_sale_and_its_dispute_are_in_whole_yen(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    paid = gateway.charge(charge(token, 1500, currency="JPY"))
    assert paid.processor_payment_id is not None
    dispute_id = braintree_server.open_dispute(paid.processor_payment_id, Decimal(700))
    found = gateway.find_payment(paid.processor_payment_id)
    assert found is not None
    assert (found.amount, found.currency) == (1500, "JPY")
    assert found.disputes == (ProcessorDispute(dispute_id, DisputeState.OPEN, 700),)


# outages -------------------------------------------------------------------------------------
def test_a_500_is_unavailable_after_retrying_the_safe_read(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway
) -> None:
    braintree_server.fail(500)

    with pytest.raises(ProcessorUnavailable):
        gateway.find_charge("att-1", Processor.BRAINTREE)
    assert braintree_server.calls.count("POST", SEARCH) == 3  # retry_attempts


def test_a_transient_500_on_a_read_is_retried_away(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway
) -> None:
    braintree_server.fail(503, times=2)

    assert gateway.find_charge("att-1", Processor.BRAINTREE) is None


def test_a_sale_answered_with_500_is_not_sent_again(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    braintree_server.fail(500, method="POST", path=SALE)

    with pytest.raises(ProcessorUnavailable):
        gateway.charge(charge(token, 1000))
    assert braintree_server.calls.count("POST", SALE) == 1


def test_a_hanging_gateway_times_out_as_unavailable(
    gateway: BraintreeGateway, braintree_server: LocalBraintreeGateway
) -> None:
    braintree_server.hang()
    started = time.monotonic()

    with pytest.raises(ProcessorUnavailable):
        gateway.find_charge("att-1", Processor.BRAINTREE)
    assert time.monotonic() - started < 5


def test_a_stopped_gateway_is_unavailable() -> None:
    with running_braintree_gateway() as stopped:
        config = config_for(stopped)
    # the server is gone now: nothing listens on its port
    gateway = BraintreeGateway(BraintreeClient.from_config(config))
    with pytest.raises(ProcessorUnavailable):
        gateway.find_charge("att-1", Processor.BRAINTREE)
    with pytest.raises(ProcessorUnavailable):
        BraintreePayPalVault(BraintreeClient.from_config(config)).find_customer("acct-1")


def test_wrong_keys_are_unavailable_not_a_decline(
    braintree_server: LocalBraintreeGateway, token: str
) -> None:
    gateway = BraintreeGateway(
        BraintreeClient.from_config(config_for(braintree_server, private_key="wrong"))
    )
    before = len(braintree_server.calls.seen)

    with pytest.raises(ProcessorUnavailable, match="credentials refused"):
        gateway.charge(charge(token, 1000))
    assert braintree_server.state.transactions == {}
    assert braintree_server.calls.seen[before:] == [
        ("POST", SEARCH)
    ]  # the lookup before the sale, not retried


def test_the_breaker_opens_fails_fast_and_closes_after_a_good_trial(
    braintree_server: LocalBraintreeGateway, token: str
) -> None:
    config = config_for(braintree_server, breaker_fail_max=2, retry_attempts=1, breaker_reset_s=0.3)
    gateway = BraintreeGateway(BraintreeClient.from_config(config))
    assert breaker_state() == "closed"
    opened = breaker_openings()
    braintree_server.fail(503)
    for _ in range(2):
        with pytest.raises(ProcessorUnavailable):
            gateway.find_charge("att-1", Processor.BRAINTREE)
    asked = len(braintree_server.calls.seen)
    assert (breaker_state(), breaker_openings()) == ("open", opened + 1)

    with pytest.raises(ProcessorUnavailable, match="circuit open"):
        gateway.charge(charge(token, 1000))
    assert len(braintree_server.calls.seen) == asked  # not even asked

    braintree_server.clear_faults()
    time.sleep(0.35)
    assert gateway.find_charge("att-1", Processor.BRAINTREE) is None  # the trial call
    assert gateway.charge(charge(token, 1000)).succeeded
    assert (breaker_state(), breaker_openings()) == ("closed", opened + 1)


STATE_SAMPLE = "billing_processor_breaker_state"
OPENED_SAMPLE = "billing_processor_breaker_opened_total"


def breaker_state() -> str:
    """The state billing_processor_breaker_state shows for Braintree (the one set to 1)."""
    states = ("closed", "open", "half_open")
    values = {
        s: REGISTRY.get_sample_value(STATE_SAMPLE, {"processor": "braintree", "state": s})
        for s in states
    }
    [current] = [s for s, value in values.items() if value == 1]
    assert [value for value in values.values() if value != 1] == [0, 0]
    return current


def breaker_openings() -> float:
    value = REGISTRY.get_sample_value(OPENED_SAMPLE, {"processor": "braintree"})
    assert value is not None  # the series exists from the start
    return value


# the local gateway itself, through the SDK --------------------------------------------------
def test_the_local_gateway_answers_validation_errors_as_braintree_does(
    client: BraintreeClient, braintree_server: LocalBraintreeGateway, token: str
) -> None:
    result = client.sdk.transaction.sale({"payment_method_token": token})

    assert not result.is_success
    assert result.message == "Amount is required."
    errors = result.errors.for_object("transaction").on("amount")
    assert [(e.code, e.message) for e in errors] == [("81502", "Amount is required.")]
    assert result.transaction is None

    declined = client.sdk.transaction.sale({"amount": "2046.00", "payment_method_token": token})
    assert (declined.is_success, declined.message) == (False, "Declined")
    assert (declined.transaction.status, declined.transaction.processor_response_code) == (
        "processor_declined",
        "2046",
    )
    with pytest.raises(braintree.exceptions.NotFoundError):
        client.sdk.transaction.find("nosuchtx")

    raw = requests.post(
        f"{braintree_server.base_url}/merchants/{braintree_server.merchant_id}/customers",
        data="<customer><id>acct-1</id></customer>",
        headers={"Content-Type": "application/xml", "X-ApiVersion": "6"},
        auth=(braintree_server.public_key, braintree_server.private_key),
        timeout=5,
    )
    assert raw.status_code == 422
    assert '<api-error-response><errors><errors type="array"/><customer>' in raw.text
    assert '<code>91609</code><attribute type="symbol">id</attribute>' in raw.text
    anonymous = requests.get(
        f"{braintree_server.base_url}/merchants/{braintree_server.merchant_id}/customers/acct-1",
        headers={"X-ApiVersion": "6"},
        timeout=5,
    )
    assert anonymous.status_code == 401
