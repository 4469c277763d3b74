"""The history's events in words: every public event type has its facts read, and the
payload's ids are told as a person knows them (invoice numbers, amounts, card digits)."""

from __future__ import annotations

from uuid import uuid4

from adapters.http.console.timeline import READERS, Facts, in_words, method_words
from commands import billing, credits, disputes, methods, refunds
from commands.base import load_account
from commands.models import (
    CloseDispute,
    GrantCredit,
    LinkProviderCustomer,
    OpenDispute,
    RefundPayment,
    Subscribe,
)
from ledger.account.registry import PUBLIC_EVENTS
from ledger.envelope import envelope_of
from ledger.payments import Processor
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx, in_memory_deps, service_ctx, support_ctx


def test_every_public_event_type_has_its_facts_read() -> None:
    assert {e.name for e in PUBLIC_EVENTS} == set(READERS)


def test_event_types_read_as_words() -> None:
    assert in_words("PaymentMethodAdded") == "Payment method added"
    assert in_words("AccountOpened") == "Account opened"


def test_methods_read_as_a_person_knows_them() -> None:
    card = {"kind": "card", "brand": "visa", "last4": "4242", "exp_month": 3, "exp_year": 2030}
    paypal = {"kind": "paypal", "payer_email": "ada@example.com", "vault_path": "legacy"}
    assert method_words(card) == "visa ending 4242, expires 03/2030"
    assert method_words(paypal) == "PayPal ada@example.com (legacy)"


def test_a_payment_reads_with_its_amount_invoice_and_card() -> None:
    deps = in_memory_deps()
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    account = load_account(deps.app, account_id)
    [attempt] = account.attempts.values()
    facts = dict(
        Facts(account).of(
            "PaymentSucceeded", {"attempt_id": attempt.attempt_id, "processor_payment_id": "pay_1"}
        )
    )
    number = f"{account_id.hex[:8].upper()}-0001"
    assert facts == {
        "Amount": "20.00 USD",
        "Invoice": number,
        "Method": "visa ending 4242, expires 12/2030",
        "Processor payment": "pay_1",
    }


def test_an_id_the_account_does_not_know_is_shown_as_it_is() -> None:
    facts = dict(Facts(None).of("InvoiceMarkedUncollectible", {"invoice_id": "inv-9"}))
    assert facts == {"Invoice": "inv-9"}


def test_a_whole_account_reads_in_words_event_by_event() -> None:
    """Real events of most types, as the history decodes them: each says something, and no
    amount is shown without its currency."""
    deps = in_memory_deps()
    account_id = usd_account(deps)
    link = LinkProviderCustomer(
        account_id=account_id, processor=Processor.STRIPE, customer_id="cus_Ada42"
    )
    methods.link_provider_customer(deps, link, service_ctx())
    grant = GrantCredit(account_id=account_id, amount=500, currency="USD")
    credits.grant_credit(deps, grant, support_ctx())
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    [attempt_id] = load_account(deps.app, account_id).attempts
    refund = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=300)
    refunds.refund_payment(deps, refund, service_ctx(uuid4()))
    dispute = OpenDispute(
        account_id=account_id, attempt_id=attempt_id, dispute_id="dp_1", amount=1000
    )
    disputes.open_dispute(deps, dispute, service_ctx())
    close = CloseDispute(account_id=account_id, attempt_id=attempt_id, won=True)
    disputes.close_dispute(deps, close, service_ctx())
    account = load_account(deps.app, account_id)
    facts = Facts(account)
    read = {
        envelope.event_type: dict(facts.of(envelope.event_type, envelope.data))
        for envelope in (
            envelope_of(event, 0) for event in deps.app.repository.event_store.get(account_id)
        )
    }
    assert read["AccountOpened"]["Name"] == "Ada Lovelace"
    assert read["ProviderCustomerLinked"] == {"Processor": "stripe", "Customer": "cus_Ada42"}
    assert read["CreditGranted"]["Amount"] == "5.00 USD"
    assert read["InvoiceDrafted"]["Total"] == "20.00 USD"
    assert read["InvoiceFinalized"]["Credit used"] == "5.00 USD"
    assert read["PaymentAttemptStarted"]["Amount"] == "15.00 USD"
    assert read["Subscribed"]["Plan"] == PLAN
    assert read["RefundIssued"]["Amount"] == "3.00 USD"
    assert read["DisputeOpened"]["Amount"] == "10.00 USD"
    assert read["DisputeClosed"]["Outcome"] == "won (funds returned)"
    number = f"{account_id.hex[:8].upper()}-0001"
    for kind in ("RefundIssued", "DisputeOpened", "DisputeClosed", "PaymentSucceeded"):
        assert read[kind]["Invoice"] == number
