"""The billing pages' 3-D Secure page on the embedded default (the simulated processor, its
Stripe.js served by the ledger), in chromium: a renewal on a card that asks for 3-D Secure
waits; the simulated bank's dialog completed, the renewal is paid; failed, the payment is
cancelled at the simulated processor and the invoice stays unpaid."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Page, expect

from commands import dunning
from commands.base import load_account
from commands.models import RunBilling
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptStatus
from tests.browser.conftest import caught_up
from tests.browser.test_payment_page_simulated import Simulated, simulated  # noqa: F401
from tests.fakes.builders import system_ctx
from tests.fakes.clock import FixedClock

AUTHENTICATES = "pm_card_authenticationRequiredOnSetup"  # 4000002500003155, never set up


def waiting_renewal(sim: Simulated, clock: FixedClock) -> UUID:
    account_id, _ = sim.page_url()
    for card in ("pm_card_visa", AUTHENTICATES):  # the second is the new default
        path = f"/accounts/{account_id}/payment-methods/cards/vaulted"
        vaulted = sim.service(path, payment_method=card)
        assert vaulted.status_code == 201, vaulted.text
        if card == "pm_card_visa":
            subscribed = sim.service(
                f"/accounts/{account_id}/subscriptions", plan_id="pro-monthly-usd"
            )
            assert subscribed.json()["payment"]["status"] == "succeeded", subscribed.text
    clock.advance(days=31)
    deps = sim.container.deps
    report = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert [p.status for p in report.attempts] == [AttemptStatus.REQUIRES_ACTION]
    return account_id


def authenticate(page: Page, sim: Simulated, account_id: UUID, choice: str) -> None:
    caught_up(sim.container)
    started = sim.service(f"/accounts/{account_id}/billing-portal-sessions")
    assert started.status_code == 201, started.text
    page.goto(started.json()["url"])
    page.get_by_test_id("authenticate").get_by_role("link", name="Authenticate").click()
    expect(page.get_by_test_id("simulated")).to_contain_text("Simulated processor")
    page.get_by_role("button", name="Confirm with your bank").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading")).to_have_text("3-D Secure (simulated)")
    dialog.get_by_role("button", name=choice).click()


def test_a_renewal_authenticated_at_the_simulated_bank_is_paid(
    page: Page,
    simulated: Simulated,  # noqa: F811
    clock: FixedClock,
) -> None:
    account_id = waiting_renewal(simulated, clock)
    authenticate(page, simulated, account_id, "Complete authentication")
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Thank you: your payment is confirmed")
    account = load_account(simulated.container.app, account_id)
    (renewal,) = [a for a in account.attempts.values() if a.action_expires_at is not None]
    assert renewal.status is AttemptStatus.SUCCEEDED
    assert account.invoices[renewal.invoice_id].status is InvoiceStatus.PAID


def test_a_failed_simulated_authentication_cancels_the_payment_and_leaves_it_unpaid(
    page: Page,
    simulated: Simulated,  # noqa: F811
    clock: FixedClock,
) -> None:
    account_id = waiting_renewal(simulated, clock)
    authenticate(page, simulated, account_id, "Fail authentication")
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Your bank did not confirm the payment")
    account = load_account(simulated.container.app, account_id)
    (renewal,) = [a for a in account.attempts.values() if a.action_expires_at is not None]
    assert renewal.status is AttemptStatus.FAILED
    assert account.invoices[renewal.invoice_id].status is InvoiceStatus.OPEN
    assert simulated.container.simulated is not None
    at_processor = simulated.container.simulated.find_charge(renewal.attempt_id, renewal.processor)
    assert at_processor is not None
    assert at_processor.decline_code == "payment_intent_canceled"  # no client secret pays it now
