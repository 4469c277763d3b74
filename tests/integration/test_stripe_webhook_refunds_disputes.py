"""`/webhooks/stripe` refunds and disputes through the real HTTP app and event store, with
real PaymentIntents and refunds at localstripe (which the webhook reads back through the
adapter: refunds and disputes carry no metadata of ours). localstripe sends no refund or
dispute events, so they are built here in Stripe's shape and signed as Stripe signs them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
import stripe
from fastapi.testclient import TestClient

from adapters.bootstrap import Container, build
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from commands import refunds
from commands.base import load_account
from commands.models import RefundPayment
from commands.ports import RefundRequest
from ledger.envelope import EventEnvelope
from ledger.money import Money
from ledger.payments import AttemptStatus, DisputeStatus, Processor
from tests.fakes.billing import subscribe
from tests.fakes.builders import support_ctx
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer, free_port
from tests.integration.kill_after_charge import charge_and_die
from tests.integration.test_stripe_gateway import card, sdk_client, stripe_account
from tests.integration.test_stripe_webhooks import hooked, intent_event, signed

__all__ = ["hooked"]  # the fixture, imported for pytest
PRICE = 2000  # pro-monthly-usd, in cents


@pytest.fixture
def client(hooked: Container) -> Iterator[TestClient]:
    with TestClient(create_app(hooked, ApiKeys([]))) as test_client:
        yield test_client


@pytest.fixture
def sdk(localstripe: LocalStripeServer) -> stripe.StripeClient:
    return sdk_client(localstripe)


def paid(container: Container, sdk: stripe.StripeClient) -> tuple[UUID, str, str]:
    """(account, attempt id, PaymentIntent id) of a subscription paid at localstripe."""
    account_id, _, _ = stripe_account(container, sdk)
    result = subscribe(container.deps, account_id, on_session=False)
    assert result.payment is not None
    attempt = load_account(container.app, account_id).attempts[result.payment.attempt_id]
    assert attempt.status is AttemptStatus.SUCCEEDED
    assert attempt.processor_payment_id is not None
    return account_id, attempt.attempt_id, attempt.processor_payment_id


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid4().hex[:16]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def deliver(client: TestClient, delivered: dict[str, Any]) -> str:
    body, headers = signed(delivered)
    answer = client.post("/webhooks/stripe", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["received"] == delivered["id"]
    return str(answer.json()["outcome"])


def charge_of(sdk: stripe.StripeClient, intent_id: str) -> dict[str, Any]:
    """The charge as a `charge.*` event carries it: no metadata of ours on it."""
    latest = sdk.v1.payment_intents.retrieve(intent_id).latest_charge  # localstripe expands it
    charge_id = latest if isinstance(latest, str) else getattr(latest, "id", None)
    assert isinstance(charge_id, str)
    charge = sdk.v1.charges.retrieve(charge_id).to_dict()
    charge.pop("refunds", None)  # not in events since API version 2022-11-15
    charge["metadata"] = {}
    return charge


def dispute(intent_id: str, charge_id: str, status: str, amount: int = 1500) -> dict[str, Any]:
    return {
        "id": f"dp_{intent_id[3:]}",
        "object": "dispute",
        "amount": amount,
        "currency": "usd",
        "status": status,
        "charge": charge_id,
        "payment_intent": intent_id,
        "reason": "fraudulent",
        "metadata": {},
    }


def events_of(container: Container, account_id: UUID, *kinds: str) -> list[EventEnvelope]:
    stream = container.reader.stream_between(account_id, 0, None)
    return [e for e in stream if e.event_type in kinds]


def assert_from_stripe(recorded: EventEnvelope, event_type: str) -> None:
    assert recorded.meta["actor"] == {"id": "stripe", "kind": "system"}
    assert recorded.meta["surface"] == "webhook"
    assert recorded.meta["reason"].startswith(f"stripe {event_type} ")


def test_a_dashboard_refund_is_recorded_once_under_stripes_refund_id(
    hooked: Container, client: TestClient, sdk: stripe.StripeClient
) -> None:
    account_id, attempt_id, intent_id = paid(hooked, sdk)
    made = sdk.v1.refunds.create({"payment_intent": intent_id, "amount": 700})  # the dashboard

    refunded = event("charge.refunded", charge_of(sdk, intent_id))
    assert deliver(client, refunded) == "recorded"
    assert deliver(client, refunded) == "already_recorded"  # redelivered
    created = event("refund.created", made.to_dict())
    assert deliver(client, created) == "already_recorded"  # the same refund, another event

    [issued] = events_of(hooked, account_id, "RefundIssued")
    assert (issued.data["attempt_id"], issued.data["refund_id"]) == (attempt_id, made.id)
    assert issued.data["amount"] == 700
    assert issued.data["refund_id"].startswith("re_")
    assert_from_stripe(issued, "charge.refunded")
    assert load_account(hooked.app, account_id).attempts[attempt_id].refunded == 700


def test_a_refund_the_ledger_made_changes_nothing_and_a_lost_recording_is_completed(
    hooked: Container, client: TestClient, sdk: stripe.StripeClient
) -> None:
    account_id, attempt_id, intent_id = paid(hooked, sdk)
    refund = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=500)
    refunds.refund_payment(hooked.deps, refund, support_ctx("refund", uuid4()))
    [ours] = sdk.v1.refunds.list({"payment_intent": intent_id}).data
    assert ours.metadata is not None
    assert ours.metadata.to_dict().keys() == {"refund_id"}
    assert deliver(client, event("refund.created", ours.to_dict())) == "already_recorded"
    assert len(events_of(hooked, account_id, "RefundIssued")) == 1

    # A crash between Stripe's refund and its recording: the webhook records it, under the
    # ledger's own refund id (so a retry of the refund command finds it recorded).
    assert hooked.stripe is not None
    lost_id = str(uuid4())
    request = RefundRequest(lost_id, Processor.STRIPE, intent_id, Money(300, "USD"))
    stripe_refund_id = hooked.stripe.refund(request)
    lost = sdk.v1.refunds.retrieve(stripe_refund_id).to_dict()
    assert deliver(client, event("refund.updated", lost)) == "recorded"
    issued = events_of(hooked, account_id, "RefundIssued")
    assert [(e.data["refund_id"], e.data["amount"]) for e in issued][1] == (lost_id, 300)
    assert load_account(hooked.app, account_id).refund_ids[lost_id] == attempt_id


def test_a_refund_before_the_success_records_the_success_first(
    hooked: Container,
    client: TestClient,
    sdk: stripe.StripeClient,
    localstripe: LocalStripeServer,
    database_url: str,
) -> None:
    account_id, _, _ = stripe_account(hooked, sdk)
    charge_and_die(database_url, localstripe.url, localstripe.api_key, account_id)
    [pending] = load_account(hooked.app, account_id).attempts.values()
    assert pending.in_flight
    [intent] = [
        i
        for i in sdk.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
        if i.metadata.to_dict().get("attempt_id") == pending.attempt_id
    ]
    made = sdk.v1.refunds.create({"payment_intent": intent.id, "amount": PRICE})

    assert deliver(client, event("refund.created", made.to_dict())) == "recorded"
    late = intent_event("payment_intent.succeeded", intent.id, pending.attempt_id, account_id)
    assert deliver(client, late) == "already_settled"

    attempt = load_account(hooked.app, account_id).attempts[pending.attempt_id]
    assert (attempt.status, attempt.processor_payment_id) == (AttemptStatus.SUCCEEDED, intent.id)
    assert attempt.refunded == PRICE
    settled = events_of(hooked, account_id, "PaymentSucceeded", "RefundIssued")
    assert [e.event_type for e in settled] == ["PaymentSucceeded", "RefundIssued"]
    assert settled[0].data["processor_payment_id"] == intent.id
    assert_from_stripe(settled[0], "refund.created")


def test_a_dispute_opens_and_closes_once_each(
    hooked: Container, client: TestClient, sdk: stripe.StripeClient
) -> None:
    account_id, attempt_id, intent_id = paid(hooked, sdk)
    charge_id = str(charge_of(sdk, intent_id)["id"])
    opened = event("charge.dispute.created", dispute(intent_id, charge_id, "needs_response"))
    assert deliver(client, opened) == "recorded"
    assert deliver(client, opened) == "already_recorded"
    withdrawn = event("charge.dispute.funds_withdrawn", dispute(intent_id, charge_id, "lost"))
    assert deliver(client, withdrawn) == "ignored"
    closed = event("charge.dispute.closed", dispute(intent_id, charge_id, "lost"))
    assert deliver(client, closed) == "recorded"
    assert deliver(client, closed) == "already_recorded"
    assert deliver(client, opened) == "already_recorded"  # late and again: changes nothing

    [dispute_opened] = events_of(hooked, account_id, "DisputeOpened")
    assert (dispute_opened.data["dispute_id"], dispute_opened.data["amount"]) == (
        f"dp_{intent_id[3:]}",
        1500,
    )
    assert_from_stripe(dispute_opened, "charge.dispute.created")
    [dispute_closed] = events_of(hooked, account_id, "DisputeClosed")
    assert dispute_closed.data["won"] is False
    assert_from_stripe(dispute_closed, "charge.dispute.closed")
    attempt = load_account(hooked.app, account_id).attempts[attempt_id]
    assert (attempt.dispute, attempt.disputed_amount) == (DisputeStatus.LOST, 1500)
    assert attempt.refundable == Money(PRICE - 1500, "USD")


def test_a_dispute_closed_before_it_was_opened_records_both_and_the_opening_changes_nothing(
    hooked: Container, client: TestClient, sdk: stripe.StripeClient
) -> None:
    account_id, attempt_id, intent_id = paid(hooked, sdk)
    charge_id = str(charge_of(sdk, intent_id)["id"])
    won = dispute(intent_id, charge_id, "won", amount=PRICE)
    del won["payment_intent"]  # found through the charge, read back from localstripe
    assert deliver(client, event("charge.dispute.closed", won)) == "recorded"
    late = event("charge.dispute.created", dispute(intent_id, charge_id, "needs_response"))
    assert deliver(client, late) == "already_recorded"

    recorded = events_of(hooked, account_id, "DisputeOpened", "DisputeClosed")
    assert [e.event_type for e in recorded] == ["DisputeOpened", "DisputeClosed"]
    assert recorded[0].data["amount"] == PRICE
    assert recorded[1].data["won"] is True
    assert recorded[0].meta["command_id"] == recorded[1].meta["command_id"]  # one save
    attempt = load_account(hooked.app, account_id).attempts[attempt_id]
    assert attempt.dispute is DisputeStatus.WON
    assert attempt.refundable == Money(PRICE, "USD")  # a won dispute gives the funds back


def test_inquiries_foreign_payments_and_refusals_are_acknowledged(
    hooked: Container, client: TestClient, sdk: stripe.StripeClient
) -> None:
    account_id, attempt_id, intent_id = paid(hooked, sdk)
    charge_id = str(charge_of(sdk, intent_id)["id"])
    inquiry = dispute(intent_id, charge_id, "warning_needs_response")
    assert deliver(client, event("charge.dispute.created", inquiry)) == "ignored"
    assert deliver(client, event("charge.dispute.updated", inquiry)) == "ignored"
    pending = {**sdk.v1.refunds.create({"payment_intent": intent_id, "amount": 50}).to_dict()}
    pending["status"] = "pending"  # e.g. a bank refund: recorded when it succeeds
    assert deliver(client, event("refund.created", pending)) == "ignored"

    # A payment the ledger did not make: no metadata of ours on its PaymentIntent.
    customer = sdk.v1.customers.create({"email": "someone@example.com"})
    method = card(sdk)
    sdk.v1.payment_methods.attach(method, {"customer": customer.id})
    foreign = sdk.v1.payment_intents.create(
        {
            "amount": 900,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": method,
            "confirm": True,
        }
    )
    foreign_refund = sdk.v1.refunds.create({"payment_intent": foreign.id})
    assert deliver(client, event("refund.created", foreign_refund.to_dict())) == "not_ours"

    # The domain refuses: a refund larger than what is left (localstripe accepts it).
    whole = sdk.v1.refunds.create({"payment_intent": intent_id, "amount": PRICE})
    too_much = sdk.v1.refunds.create({"payment_intent": intent_id, "amount": 100})
    assert deliver(client, event("refund.created", whole.to_dict())) == "recorded"
    assert deliver(client, event("refund.created", too_much.to_dict())) == "refused"
    [issued] = events_of(hooked, account_id, "RefundIssued")
    assert issued.data["refund_id"] == whole.id
    assert load_account(hooked.app, account_id).attempts[attempt_id].refunded == PRICE


def test_a_dispute_whose_payment_cannot_be_read_is_an_error_and_redelivered_later(
    database_url: str, clock: FixedClock, hooked: Container, sdk: stripe.StripeClient
) -> None:
    account_id, _, intent_id = paid(hooked, sdk)
    unreachable = hooked.settings.model_copy(
        update={"stripe_api_base": f"http://127.0.0.1:{free_port()}"}
    )
    opened = event("charge.dispute.created", dispute(intent_id, "ch_x", "needs_response"))
    body, headers = signed(opened)
    with build(unreachable, clock=clock) as down, TestClient(create_app(down, ApiKeys([]))) as c:
        failed = c.post("/webhooks/stripe", content=body, headers=headers)
    assert (failed.status_code, failed.json()["code"]) == (503, "processor_unavailable")
    assert events_of(hooked, account_id, "DisputeOpened") == []

    with TestClient(create_app(hooked, ApiKeys([]))) as client:
        assert deliver(client, opened) == "recorded"  # Stripe's redelivery
    assert len(events_of(hooked, account_id, "DisputeOpened")) == 1
