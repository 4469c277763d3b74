"""Every billing event becomes a public envelope that survives JSON (what the relay sends)."""

from __future__ import annotations

import json
from uuid import uuid4

from adapters.kafka import codec
from adapters.postgres.store_reader import StoreReader
from commands import accounts, billing, credits, methods, refunds
from commands.models import AddCard, AddPayPal, GrantCredit, RefundPayment, Subscribe
from tests.fakes.builders import customer_ctx, in_memory_deps, open_cmd, support_ctx


def test_billing_events_travel_as_json_envelopes_with_balanced_journals() -> None:
    deps = in_memory_deps()
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    methods.add_card(
        deps,
        AddCard(
            account_id=account_id,
            processor_ref="pm_1",
            brand="visa",
            last4="4242",
            exp_month=1,
            exp_year=2030,
        ),
        customer_ctx(),
    )
    methods.add_paypal(
        deps,
        AddPayPal(
            account_id=account_id,
            token="bt_1",
            billing_agreement_id="B-1",
            payer_email="p@example.com",
            make_default=False,
        ),
        customer_ctx(),
    )
    credits.grant_credit(
        deps, GrantCredit(account_id=account_id, amount=300, currency="USD"), support_ctx()
    )
    paid = billing.subscribe(
        deps, Subscribe(account_id=account_id, plan_id="pro-monthly-usd"), customer_ctx()
    )
    assert paid.payment is not None
    refunds.refund_payment(
        deps,
        RefundPayment(account_id=account_id, attempt_id=paid.payment.attempt_id, amount=100),
        support_ctx("refund", uuid4()),
    )
    envelopes = StoreReader(deps.app).read_after(0, 1000)
    kinds = [e.event_type for e in envelopes]
    assert kinds == [
        "AccountOpened",
        "PaymentMethodAdded",
        "PaymentMethodAdded",
        "CreditGranted",
        "Subscribed",
        "InvoiceDrafted",
        "InvoiceFinalized",
        "PaymentAttemptStarted",
        "PaymentSucceeded",
        "RefundIssued",
    ]
    for env in envelopes:
        decoded = codec.decode(json.loads(codec.value_of(env)))
        assert decoded == env
        if "journal" in env.data:
            totals: dict[str, int] = {}
            for posting in env.data["journal"]["postings"]:
                money_ = posting["amount"]
                totals[money_["currency"]] = totals.get(money_["currency"], 0) + money_["amount"]
            assert set(totals.values()) == {0}
    finalized = envelopes[kinds.index("InvoiceFinalized")].data
    assert finalized["credits_used"]
    assert finalized["number"].endswith("-0001")
