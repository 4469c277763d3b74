"""The simulated processor on the real store: cards and PayPal vaulted and charged through
the commands, refunds and disputes kept, a restart keeps what it charged, and
reconciliation compares the ledger against it (and finds what only the processor holds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest

from adapters.bootstrap import Container, build
from adapters.forget import forget
from adapters.reconcile import reconcile_account
from adapters.settings import PRODUCTION_MUST_SET, Settings
from adapters.simulated import SimulatedGateway
from adapters.simulated.human_check import DUMMY_TOKEN, SimulatedHumanCheck
from commands import accounts, billing, customers, refunds, vaulting
from commands.base import load_account
from commands.models import (
    AddVaultedCard,
    PayInvoice,
    RefundPayment,
    StartCardSetup,
    Subscribe,
    SyncProviderCustomer,
    VaultPayPal,
)
from commands.ports import DisputeState, MethodDeclined, ProcessorRefused
from commands.reconcile_compare import FindingKind
from ledger.methods import CollectionPath
from ledger.payments import AttemptStatus, Processor
from tests.fakes.builders import customer_ctx, open_cmd, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.settings import PRODUCTION


def simulated_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, pool_size=4, simulated_processor=True)


@pytest.fixture
def sim(database_url: str, clock: FixedClock) -> Iterator[Container]:
    built = build(simulated_settings(database_url), clock=clock)
    yield built
    built.close()


def gateway(c: Container) -> SimulatedGateway:
    assert c.simulated is not None
    return c.simulated


def card_account(c: Container, card: str, currency: str = "USD") -> UUID:
    deps = c.deps
    account_id = accounts.open_account(deps, open_cmd(currency=currency), customer_ctx()).account_id
    add = AddVaultedCard(account_id=account_id, payment_method=card)
    vaulting.add_vaulted_card(deps, add, customer_ctx())
    return account_id


def subscribed(c: Container, account_id: UUID, on_session: bool = False) -> billing.BillingResult:
    cmd = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=on_session)
    return billing.subscribe(c.deps, cmd, customer_ctx())


def test_the_simulated_processor_serves_only_where_settings_allow_it(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).simulates_processors
    assert not Settings(data_dir=tmp_path, **PRODUCTION).simulates_processors
    assert not Settings(data_dir=tmp_path, stripe_api_key="sk_test_x").simulates_processors
    assert not Settings(data_dir=tmp_path, braintree_merchant_id="m").simulates_processors
    assert not Settings(database_url="postgresql://h/db").simulates_processors
    with pytest.raises(ValueError, match="production"):
        Settings(database_url="postgresql://h/db", simulated_processor=True, **PRODUCTION)
    with pytest.raises(ValueError, match="real processor"):
        Settings(database_url="postgresql://h/db", simulated_processor=True, stripe_api_key="k")


def test_a_container_without_simulation_has_none(container: Container) -> None:
    assert container.simulated is None
    assert container.deps.processors.cards is None
    # nor the simulated Turnstile: its public dummy token passes only beside the simulation
    checkout = container.checkout
    assert checkout is None or not isinstance(checkout.human_check, SimulatedHumanCheck)


def test_the_simulated_turnstile_serves_only_beside_the_simulated_processor(
    sim: Container,
) -> None:
    assert sim.checkout is not None
    assert isinstance(sim.checkout.human_check, SimulatedHumanCheck)
    assert sim.checkout.human_check.verify(DUMMY_TOKEN, None, "k").passed
    assert not sim.checkout.human_check.verify("a-made-up-token", None, "k").passed


def test_4242_is_charged_and_reconciles_clean(sim: Container) -> None:
    account_id = card_account(sim, "pm_card_visa")
    result = subscribed(sim, account_id)
    assert result.payment is not None
    assert result.payment.status is AttemptStatus.SUCCEEDED
    account = load_account(sim.app, account_id)
    attempt = account.attempts[result.payment.attempt_id]
    assert attempt.processor_payment_id is not None
    assert attempt.processor_payment_id.startswith("pi_sim_")
    assert account.provider_customers["stripe"].startswith("cus_sim_")
    (method,) = account.methods.values()
    assert (method.processor_ref[:7], method.last4) == ("pm_sim_", "4242")
    check = reconcile_account(sim, account_id)
    assert (check.findings, check.errors) == ((), ())


def test_0341_attaches_then_its_charge_is_declined(sim: Container) -> None:
    account_id = card_account(sim, "pm_card_chargeCustomerFail")
    result = subscribed(sim, account_id)
    assert result.payment is not None
    assert (result.payment.status, result.payment.decline_code) == (
        AttemptStatus.FAILED,
        "card_declined",
    )


def test_9995_is_refused_with_insufficient_funds_and_nothing_recorded(sim: Container) -> None:
    with pytest.raises(MethodDeclined) as refused:
        card_account(sim, "pm_card_visa_chargeDeclinedInsufficientFunds")
    assert refused.value.decline_code == "insufficient_funds"


def test_3155_waits_for_the_customer_until_set_up_through_a_confirmed_setup(
    sim: Container,
) -> None:
    account_id = card_account(sim, "pm_card_authenticationRequiredOnSetup")
    waiting = subscribed(sim, account_id, on_session=True)
    assert waiting.payment is not None
    assert waiting.payment.status is AttemptStatus.REQUIRES_ACTION
    assert waiting.payment.client_secret is not None
    deps = sim.deps
    other = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    started = vaulting.start_card_setup(deps, StartCardSetup(account_id=other), customer_ctx())
    assert deps.processors.cards is not None
    cards = deps.processors.cards
    method = cards.confirm_setup(started.setup.setup_id, "4000002500003155")  # type: ignore[attr-defined]
    assert cards.confirmed_card(started.setup.setup_id) == method
    add = AddVaultedCard(account_id=other, payment_method=method)
    vaulting.add_vaulted_card(deps, add, customer_ctx())
    paid = subscribed(sim, other, on_session=False)
    assert paid.payment is not None
    assert paid.payment.status is AttemptStatus.SUCCEEDED


def test_a_failed_3d_secure_is_left_for_a_cancel_as_at_stripe(sim: Container) -> None:
    account_id = card_account(sim, "pm_card_authenticationRequiredOnSetup")
    waiting = subscribed(sim, account_id, on_session=True)
    assert waiting.payment is not None
    attempt_id = waiting.payment.attempt_id
    sims = gateway(sim)
    failed = sims.fail_authentication(attempt_id)
    assert (failed.succeeded, failed.requires_action, failed.decline_code) == (
        False,
        False,
        "payment_intent_authentication_failure",
    )
    assert failed.processor_payment_id is not None  # still a payment, to be cancelled
    with pytest.raises(ProcessorRefused):
        sims.authenticate(attempt_id)  # no longer waiting for the customer
    cancelled = sims.cancel_charge(attempt_id, Processor.STRIPE, failed.processor_payment_id)
    assert cancelled.decline_code == "payment_intent_canceled"


def test_paypal_on_a_billing_agreement_is_charged_and_reconciles_clean(sim: Container) -> None:
    deps = sim.deps
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    vault = VaultPayPal(account_id=account_id, nonce="fake-paypal-billing-agreement-nonce")
    vaulting.vault_paypal(deps, vault, customer_ctx())
    account = load_account(sim.app, account_id)
    (method,) = account.methods.values()
    assert method.billing_agreement_id is not None
    assert method.billing_agreement_id.startswith("B-SIM")
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    sent = subscribed(sim, account_id)
    assert (sent.payment, sent.invoice_id is not None) == (None, True)
    pay = PayInvoice(account_id=account_id, invoice_id=str(sent.invoice_id))
    paid = billing.pay_invoice(deps, pay, customer_ctx())
    assert paid.status is AttemptStatus.SUCCEEDED
    attempt = load_account(sim.app, account_id).attempts[paid.attempt_id]
    assert attempt.processor is Processor.BRAINTREE
    assert attempt.processor_payment_id is not None
    assert attempt.processor_payment_id.startswith("sim_")
    sync = SyncProviderCustomer(account_id=account_id, processor=Processor.STRIPE)
    customers.sync_customer(deps, sync, customer_ctx())  # a Stripe customer, as every account
    check = reconcile_account(sim, account_id)
    assert (check.findings, check.errors) == ((), ())


def test_what_it_charged_and_refunded_survives_a_restart_and_reconciles(
    database_url: str, clock: FixedClock
) -> None:
    with build(simulated_settings(database_url), clock=clock) as first:
        account_id = card_account(first, "pm_card_visa")
        paid = subscribed(first, account_id)
        assert paid.payment is not None
        attempt_id = paid.payment.attempt_id
        refund = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=500)
        refunds.refund_payment(first.deps, refund, support_ctx(command_id=uuid4()))
    with build(simulated_settings(database_url), clock=clock) as again:
        attempt = load_account(again.app, account_id).attempts[attempt_id]
        assert attempt.processor_payment_id is not None
        kept = again.deps.processors.payments[Processor.STRIPE].find_payment(
            attempt.processor_payment_id
        )
        assert kept is not None
        assert (kept.amount, kept.currency, [r.amount for r in kept.refunds]) == (
            2000,
            "USD",
            [500],
        )
        assert again.deps.gateway.find_charge(attempt_id, Processor.STRIPE) is not None
        check = reconcile_account(again, account_id)
        assert (check.findings, check.errors) == ((), ())


def test_a_dispute_only_the_processor_holds_is_found_by_reconciliation(sim: Container) -> None:
    account_id = card_account(sim, "pm_card_visa")
    paid = subscribed(sim, account_id)
    assert paid.payment is not None
    attempt = load_account(sim.app, account_id).attempts[paid.payment.attempt_id]
    assert attempt.processor_payment_id is not None
    dispute = gateway(sim).dispute(attempt.processor_payment_id, DisputeState.OPEN)
    assert dispute.dispute_id.startswith("dp_sim_")
    check = reconcile_account(sim, account_id)
    assert [f.kind for f in check.findings] == [FindingKind.DISPUTE_UNKNOWN_TO_LEDGER]


def test_production_settings_refuse_every_development_default() -> None:
    for name in PRODUCTION_MUST_SET:
        given = {k: v for k, v in PRODUCTION.items() if k != name}
        with pytest.raises(ValueError, match=f"LEDGER_{name.upper()}"):
            Settings(database_url="postgresql://h/db", **given)
    assert Settings(database_url="postgresql://h/db", **PRODUCTION).environment == "production"


def test_forgetting_an_account_erases_the_simulated_processors_customer_too(
    sim: Container, database_url: str
) -> None:
    deps = sim.deps
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    vault = VaultPayPal(account_id=account_id, nonce="fake-paypal-billing-agreement-nonce")
    vaulting.vault_paypal(deps, vault, customer_ctx())
    sync = SyncProviderCustomer(account_id=account_id, processor=Processor.STRIPE)
    customers.sync_customer(deps, sync, customer_ctx())
    before = _sim_text(database_url)
    assert "Ada Lovelace" in before
    assert "ada@example.com" in before
    forget(sim, account_id, support_ctx("erasure request"))
    after = _sim_text(database_url)
    assert "Ada Lovelace" not in after
    assert "ada@example.com" not in after
    assert "[erased]" in after


def _sim_text(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c::text FROM sim_customers c UNION ALL SELECT m::text FROM sim_methods m"
        ).fetchall()
    return "\n".join(r[0] for r in rows)
