"""A process SIGKILLed between a real charge at (local)Stripe and its recording: the
attempt is left pending, and the janitor resolves it from Stripe exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.bootstrap import Container
from commands.base import load_account
from commands.janitor import Resolution, resolve_in_flight
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptStatus
from tests.fakes.builders import system_ctx
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer
from tests.integration.kill_after_charge import charge_and_die
from tests.integration.test_stripe_gateway import (  # noqa: F401 - the fixture
    sdk_client,
    stripe_account,
    stripe_container,
)


def test_a_charge_killed_before_its_recording_is_resolved_once_by_the_janitor(
    stripe_container: Container,  # noqa: F811
    localstripe: LocalStripeServer,
    database_url: str,
    clock: FixedClock,
) -> None:
    sdk = sdk_client(localstripe)
    account_id, _customer, _method = stripe_account(stripe_container, sdk)
    charge_and_die(database_url, localstripe.url, localstripe.api_key, account_id)

    [attempt] = load_account(stripe_container.app, account_id).attempts.values()
    assert attempt.in_flight  # charged at Stripe, never recorded
    [intent] = [
        pi
        for pi in sdk.v1.payment_intents.list({"limit": 100}).data
        if pi.metadata.to_dict().get("attempt_id") == attempt.attempt_id
    ]
    assert intent.status == "succeeded"

    clock.current = datetime.now(UTC) + timedelta(minutes=16)
    deps = stripe_container.deps
    [resolved] = resolve_in_flight(deps, account_id, timedelta(minutes=15), system_ctx())
    assert resolved.resolution is Resolution.SUCCEEDED
    assert resolve_in_flight(deps, account_id, timedelta(minutes=15), system_ctx()) == []

    account = load_account(stripe_container.app, account_id)
    settled = account.attempts[attempt.attempt_id]
    assert (settled.status, settled.processor_payment_id) == (AttemptStatus.SUCCEEDED, intent.id)
    assert account.invoices[attempt.invoice_id].status is InvoiceStatus.PAID
    kinds = [e.event_type for e in stripe_container.reader.stream_between(account_id, 0, None)]
    assert kinds.count("PaymentSucceeded") == 1
    charged = [
        pi
        for pi in sdk.v1.payment_intents.list({"limit": 100}).data
        if pi.metadata.to_dict().get("attempt_id") == attempt.attempt_id
    ]
    assert len(charged) == 1  # the janitor asked; it never charged again
