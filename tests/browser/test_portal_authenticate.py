"""A payment waiting for the customer's bank (3-D Secure), authenticated from the billing
pages in chromium: the real Stripe adapter on localstripe, the Stripe.js stand-in
(`handleNextAction` against localstripe's `_authenticate`) and card 4000002500003155 (every
charge asks the customer). The overview's banner leads to the page; completing the bank's
check lands on "paid" and the invoice reads paid (a bad debt paid this way is lifted);
failing it says so and leaves the invoice unpaid; a reload, a second post or the webhook
recording it first records nothing twice; another account's invoice, or one with nothing
waiting, is not found."""

from __future__ import annotations

from uuid import UUID

import httpx
import stripe
from playwright.sync_api import Page, expect

from adapters.http.pay.csp import page_csp
from adapters.http.return_urls import return_origins
from commands import dunning
from commands.base import load_account
from commands.janitor import record_if_in_flight
from commands.models import RunBilling
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptStatus, Processor
from tests.browser.conftest import caught_up
from tests.browser.pay import PUBLISHABLE_KEY, LivePay
from tests.fakes.builders import system_ctx
from tests.fakes.clock import FixedClock
from tests.harness import LocalStripeServer
from tests.integration.test_stripe_gateway import card, sdk_client
from tests.integration.test_stripe_webhook_refunds_disputes import events_of

VISA = "4242424242424242"
THREE_D_SECURE = "4000002500003155"
DECLINES_CHARGES = "4000000000000341"  # attaches, then declines every charge
PLAN = "pro-monthly-usd"


def vault(pay: LivePay, sdk: stripe.StripeClient, account_id: UUID, number: str) -> None:
    """A card as the payment page vaults it: the account's new default."""
    path = f"/accounts/{account_id}/payment-methods/cards/vaulted"
    vaulted = pay.service(path, payment_method=card(sdk, number))
    assert vaulted.status_code == 201, vaulted.text


def subscribed(pay: LivePay, account_id: UUID) -> str:
    """Subscribes off-session (as a renewal is charged): the payment's status."""
    answer = pay.service(f"/accounts/{account_id}/subscriptions", plan_id=PLAN, on_session=False)
    assert answer.status_code == 201, answer.text
    status: str = answer.json()["payment"]["status"]
    return status


def waiting_renewal(pay: LivePay, sdk: stripe.StripeClient, clock: FixedClock) -> UUID:
    """An account whose renewal, on a 3-D Secure card, waits for the customer."""
    account_id = pay.open_account()
    vault(pay, sdk, account_id, VISA)
    assert subscribed(pay, account_id) == "succeeded"
    vault(pay, sdk, account_id, THREE_D_SECURE)
    clock.advance(days=31)
    deps = pay.container.deps
    report = dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert [p.status for p in report.attempts] == [AttemptStatus.REQUIRES_ACTION]
    return account_id


def open_billing(page: Page, pay: LivePay, account_id: UUID) -> None:
    """The customer's browser on the overview (a portal session, as the Dashboard opens)."""
    caught_up(pay.container)
    started = pay.service(f"/accounts/{account_id}/billing-portal-sessions")
    assert started.status_code == 201, started.text
    page.goto(started.json()["url"])
    expect(page.get_by_role("heading", name="Billing overview")).to_be_visible()


def authenticate_from_the_banner(page: Page, choice: str) -> None:
    banner = page.get_by_test_id("authenticate")
    expect(banner.get_by_role("heading")).to_have_text("Your bank asks you to confirm a payment")
    banner.get_by_role("link", name="Authenticate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your payment")
    expect(page.get_by_test_id("waiting-payment")).to_contain_text("20.00 USD")
    page.get_by_role("button", name="Confirm with your bank").click()
    page.get_by_role("dialog").get_by_role("button", name=choice).click()


def waiting_attempt(pay: LivePay, account_id: UUID) -> tuple[str, str]:
    """(attempt id, invoice id) of the payment that waited for the customer."""
    account = load_account(pay.container.app, account_id)
    (attempt,) = [a for a in account.attempts.values() if a.action_expires_at is not None]
    return attempt.attempt_id, attempt.invoice_id


def test_an_authenticated_renewal_is_paid_and_the_invoice_reads_paid(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    sdk = sdk_client(pay_localstripe)
    account_id = waiting_renewal(pay_live, sdk, clock)
    open_billing(page, pay_live, account_id)
    authenticate_from_the_banner(page, "Complete authentication")
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Thank you: your payment is confirmed")
    expect(outcome).to_contain_text("is paid: 20.00 USD on")
    attempt_id, invoice_id = waiting_attempt(pay_live, account_id)
    account = load_account(pay_live.container.app, account_id)
    assert account.attempts[attempt_id].status is AttemptStatus.SUCCEEDED
    assert account.invoices[invoice_id].status is InvoiceStatus.PAID
    intent = sdk.v1.payment_intents.retrieve(str(account.attempts[attempt_id].processor_payment_id))
    assert intent.status == "succeeded"
    (paid,) = events_of(pay_live.container, account_id, "PaymentSucceeded")[-1:]
    assert paid.meta["actor"] == {"id": f"billing-portal:{account_id}", "kind": "customer"}
    assert paid.meta["surface"] == "dashboard"  # recorded as the customer's own action
    page.reload()  # the outcome is a page of its own: reading it again records nothing
    expect(outcome.get_by_role("heading")).to_have_text("Thank you: your payment is confirmed")
    assert load_account(pay_live.container.app, account_id).version == account.version
    caught_up(pay_live.container)
    outcome.get_by_role("link", name="The invoice").click()
    expect(page.get_by_test_id("invoice-standing")).to_contain_text("Paid on")
    page.goto(pay_live.base_url + "/billing/")
    expect(page.get_by_test_id("authenticate")).to_have_count(0)


def test_a_failed_authentication_says_so_and_leaves_the_invoice_unpaid(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    sdk = sdk_client(pay_localstripe)
    account_id = waiting_renewal(pay_live, sdk, clock)
    open_billing(page, pay_live, account_id)
    authenticate_from_the_banner(page, "Fail authentication")
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Your bank did not confirm the payment")
    expect(outcome).to_contain_text("Nothing was charged.")
    expect(outcome).to_contain_text("(20.00 USD) is still unpaid. We will try your payment")
    assert "authentication_failure" not in page.content()  # no decline codes
    attempt_id, invoice_id = waiting_attempt(pay_live, account_id)
    account = load_account(pay_live.container.app, account_id)
    assert account.attempts[attempt_id].status is AttemptStatus.FAILED
    assert account.invoices[invoice_id].status is InvoiceStatus.OPEN
    intent = sdk.v1.payment_intents.retrieve(str(account.attempts[attempt_id].processor_payment_id))
    assert intent.status == "canceled"  # its client secret can no longer pay it
    page.go_back()  # the page of the payment that no longer waits
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("No payment is waiting for you")


def test_the_check_posted_twice_records_once(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    """Sent before the bank answers, the page's form records nothing and says so; once the
    bank answered (here straight at localstripe), sent twice, it records the payment once
    and lands on the same outcome."""
    sdk = sdk_client(pay_localstripe)
    account_id = waiting_renewal(pay_live, sdk, clock)
    open_billing(page, pay_live, account_id)
    page.get_by_test_id("authenticate").get_by_role("link", name="Authenticate").click()
    form = page.locator("form#authenticate")
    token = str(form.locator("input[name=csrf_token]").get_attribute("value"))
    secret = str(form.get_attribute("data-client-secret"))
    attempt_id, invoice_id = waiting_attempt(pay_live, account_id)
    early = page.request.post(
        f"{pay_live.base_url}/billing/pay/invoices/{invoice_id}",
        form={"csrf_token": token, "attempt_id": attempt_id},
    )
    assert "Your bank has not confirmed the payment yet" in early.text()  # nothing recorded
    assert load_account(pay_live.container.app, account_id).attempts[attempt_id].awaiting_customer
    authenticated = httpx.post(
        f"{pay_localstripe.url}/v1/payment_intents/{secret.split('_secret_')[0]}/_authenticate",
        data={"key": PUBLISHABLE_KEY, "client_secret": secret, "success": "true"},
        timeout=10,
    )
    assert authenticated.status_code == 200, authenticated.text
    versions = []
    for _ in range(2):
        posted = page.request.post(
            f"{pay_live.base_url}/billing/pay/invoices/{invoice_id}",
            form={"csrf_token": token, "attempt_id": attempt_id},
        )
        assert posted.ok
        assert posted.url.endswith(f"/billing/pay/invoices/{invoice_id}/payments/{attempt_id}")
        assert "Thank you: your payment is confirmed" in posted.text()
        versions.append(load_account(pay_live.container.app, account_id).version)
    assert versions[0] == versions[1]  # the second post recorded nothing
    account = load_account(pay_live.container.app, account_id)
    assert account.attempts[attempt_id].status is AttemptStatus.SUCCEEDED


def test_another_accounts_waiting_payment_is_not_found(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    """Bob's session cannot see or check Ada's waiting payment by editing the address, nor
    authenticate an invoice of his own that has nothing waiting."""
    sdk = sdk_client(pay_localstripe)
    ada = waiting_renewal(pay_live, sdk, clock)
    attempt_id, invoice_id = waiting_attempt(pay_live, ada)
    bob = pay_live.open_account("Bob Example")
    vault(pay_live, sdk, bob, VISA)
    assert subscribed(pay_live, bob) == "succeeded"
    (bobs_invoice,) = load_account(pay_live.container.app, bob).invoices
    open_billing(page, pay_live, bob)
    token = str(page.locator("input[name=csrf_token]").first.get_attribute("value"))
    version = load_account(pay_live.container.app, ada).version
    for path in (
        f"/billing/pay/invoices/{invoice_id}",
        f"/billing/pay/invoices/{invoice_id}/payments/{attempt_id}",
        f"/billing/pay/invoices/{bobs_invoice}",
    ):
        answer = page.goto(pay_live.base_url + path)
        assert answer is not None
        assert answer.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("No payment is waiting for you")
        assert "client_secret" not in page.content()
    posted = page.request.post(
        f"{pay_live.base_url}/billing/pay/invoices/{invoice_id}",
        form={"csrf_token": token, "attempt_id": attempt_id},
        max_redirects=0,
    )
    assert posted.status == 404
    malformed = page.request.post(
        f"{pay_live.base_url}/billing/pay/invoices/{invoice_id}",
        form={"csrf_token": token, "attempt_id": "not an id!"},
        max_redirects=0,
    )
    assert malformed.status == 400  # the billing pages' invalid-request page, never a 500
    assert load_account(pay_live.container.app, ada).version == version  # nothing recorded


def into_bad_debt(pay: LivePay, sdk: stripe.StripeClient, clock: FixedClock) -> UUID:
    """Every retry of the first invoice declines until dunning gives up; then the customer
    adds a 3-D Secure card (the new default)."""
    account_id = pay.open_account()
    vault(pay, sdk, account_id, DECLINES_CHARGES)
    assert subscribed(pay, account_id) == "failed"
    deps = pay.container.deps
    for _ in range(12):
        clock.advance(days=1)
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    assert load_account(pay.container.app, account_id).bad_debt
    vault(pay, sdk, account_id, THREE_D_SECURE)
    return account_id


def test_a_bad_debt_paid_with_3d_secure_is_lifted_once_authenticated(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    sdk = sdk_client(pay_localstripe)
    account_id = into_bad_debt(pay_live, sdk, clock)
    open_billing(page, pay_live, account_id)
    page.get_by_test_id("bad-debt").get_by_role("link", name="Pay now").click()
    page.get_by_label("I confirm paying").check()
    page.get_by_role("button", name="Pay 20.00 USD").click()
    expect(page.get_by_test_id("bad-debt-outcome")).to_contain_text(
        "confirm the payment your bank asks about"
    )
    page.get_by_role("link", name="Confirm the payment with your bank").click()
    page.get_by_role("button", name="Confirm with your bank").click()
    page.get_by_role("dialog").get_by_role("button", name="Complete authentication").click()
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Thank you: your payment is confirmed")
    expect(outcome).to_contain_text(
        "Nothing is unpaid any more: your subscriptions continue and you can buy again."
    )
    account = load_account(pay_live.container.app, account_id)
    assert not account.bad_debt
    caught_up(pay_live.container)
    outcome.get_by_role("link", name="The invoice").click()
    expect(page.get_by_test_id("invoice-standing")).to_contain_text("(was uncollectible since")


def test_the_page_loads_the_configured_stripe_js_under_the_payment_pages_policy(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    """Exactly the payment page's script origins (no inline script), forms only to itself,
    and nothing refused by the policy while the customer authenticates."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    account_id = waiting_renewal(pay_live, sdk_client(pay_localstripe), clock)
    open_billing(page, pay_live, account_id)
    page.get_by_test_id("authenticate").get_by_role("link", name="Authenticate").click()
    policy = page.request.get(page.url).headers["content-security-policy"]
    settings = pay_live.container.settings
    allowed = " ".join(return_origins(settings))  # the billing pages' forms may go back there
    expected = page_csp(settings).replace("form-action 'self'", f"form-action 'self' {allowed}")
    assert policy == expected
    assert f"script-src 'self' {pay_live.standins.base}" in policy
    assert page.locator("script:not([src])").count() == 0
    page.get_by_role("button", name="Confirm with your bank").click()
    page.get_by_role("dialog").get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_test_id("authentication-outcome")).to_be_visible()
    assert refused == []


def test_the_webhook_recording_the_payment_first_still_lands_on_paid(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer, clock: FixedClock
) -> None:
    """Stripe's webhook (here its recording, `record_if_in_flight`) settles the payment
    while the page is open: the page's check only reads it, and says it is paid."""
    sdk = sdk_client(pay_localstripe)
    account_id = waiting_renewal(pay_live, sdk, clock)
    open_billing(page, pay_live, account_id)
    page.get_by_test_id("authenticate").get_by_role("link", name="Authenticate").click()
    secret = str(page.locator("form#authenticate").get_attribute("data-client-secret"))
    authenticated = httpx.post(
        f"{pay_localstripe.url}/v1/payment_intents/{secret.split('_secret_')[0]}/_authenticate",
        data={"key": PUBLISHABLE_KEY, "client_secret": secret, "success": "true"},
        timeout=10,
    )
    assert authenticated.status_code == 200, authenticated.text
    attempt_id, _ = waiting_attempt(pay_live, account_id)
    deps = pay_live.container.deps
    found = deps.gateway.find_charge(attempt_id, Processor.STRIPE)
    assert found is not None
    assert record_if_in_flight(deps, account_id, attempt_id, found, system_ctx())
    version = load_account(pay_live.container.app, account_id).version
    page.get_by_role("button", name="Confirm with your bank").click()
    page.get_by_role("dialog").get_by_role("button", name="Complete authentication").click()
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Thank you: your payment is confirmed")
    assert load_account(pay_live.container.app, account_id).version == version


def change_plan_on_a_3d_secure_card(page: Page, pay: LivePay, sdk: stripe.StripeClient) -> UUID:
    """An on-session plan change charged to a 3-D Secure card, up to its result's link to
    the page and the bank's dialog."""
    account_id = pay.open_account()
    vault(pay, sdk, account_id, VISA)
    assert subscribed(pay, account_id) == "succeeded"
    vault(pay, sdk, account_id, THREE_D_SECURE)
    open_billing(page, pay, account_id)
    page.goto(pay.base_url + "/billing/plan")
    page.get_by_label("Change to").select_option(label="Business (200.00 USD every month)")
    page.get_by_role("button", name="See what it costs").click()
    page.get_by_role("button", name="Confirm the change").click()
    expect(page.get_by_test_id("plan-result")).to_contain_text("Your bank asks you to confirm")
    page.get_by_role("link", name="Confirm the payment with your bank").click()
    page.get_by_role("button", name="Confirm with your bank").click()
    return account_id


def test_a_plan_change_waiting_for_the_bank_is_confirmed_from_its_result(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer
) -> None:
    """Once authenticated, the change's invoice is paid and the plan changed."""
    account_id = change_plan_on_a_3d_secure_card(page, pay_live, sdk_client(pay_localstripe))
    page.get_by_role("dialog").get_by_role("button", name="Complete authentication").click()
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Thank you: your payment is confirmed")
    attempt_id, invoice_id = waiting_attempt(pay_live, account_id)
    account = load_account(pay_live.container.app, account_id)
    assert account.attempts[attempt_id].status is AttemptStatus.SUCCEEDED
    assert account.invoices[invoice_id].status is InvoiceStatus.PAID
    (subscription,) = account.subscriptions.values()
    assert subscription.plan_id == "business-monthly-usd"


def test_a_plan_change_whose_authentication_fails_is_not_made(
    page: Page, pay_live: LivePay, pay_localstripe: LocalStripeServer
) -> None:
    account_id = change_plan_on_a_3d_secure_card(page, pay_live, sdk_client(pay_localstripe))
    page.get_by_role("dialog").get_by_role("button", name="Fail authentication").click()
    outcome = page.get_by_test_id("authentication-outcome")
    expect(outcome.get_by_role("heading")).to_have_text("Your bank did not confirm the payment")
    expect(outcome).to_contain_text("Your plan was not changed: invoice")
    account = load_account(pay_live.container.app, account_id)
    (subscription,) = account.subscriptions.values()
    assert subscription.plan_id == PLAN
    _, invoice_id = waiting_attempt(pay_live, account_id)
    assert account.invoices[invoice_id].status is InvoiceStatus.VOID
