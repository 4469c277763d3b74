"""The payment page on the embedded default's simulated processor, in chromium: the ledger
serves simulated Stripe.js, Braintree client and Turnstile itself (labelled), a test card
is typed and vaulted at the simulated processor, a 3-D Secure test card asks to
authenticate, PayPal vaults Braintree's sandbox billing agreement (also added from the
billing pages, which then say the plan is invoiced), and the CSP allows the ledger's own
origin alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Page, expect

from adapters.bootstrap import Container, build
from adapters.cli.runtime import store_feed
from adapters.http.auth import ApiKeys
from adapters.http.portal.links import make_portal_link
from adapters.settings import Settings
from commands import accounts
from commands.base import load_account
from ledger.methods import CollectionPath, MethodKind
from tests.browser.conftest import _serving, app_of, caught_up
from tests.browser.pay import SERVICE_KEY, service_key
from tests.fakes.builders import open_cmd, service_ctx
from tests.fakes.clock import FixedClock
from tests.harness import bound_socket


@dataclass
class Simulated:
    base_url: str
    container: Container

    def page_url(self, method: str = "card", **body: Any) -> tuple[UUID, str]:
        opened = accounts.open_account(self.container.deps, open_cmd("Ada", "USD"), service_ctx())
        return opened.account_id, self.session(opened.account_id, method, **body)

    def session(self, account_id: UUID, method: str = "card", **body: Any) -> str:
        path = f"/accounts/{account_id}/payment-sessions"
        started = self.service(path, method=method, return_url=self.return_url, **body)
        assert started.status_code == 201, started.text
        url: str = started.json()["page_url"]
        return url

    def service(self, path: str, **body: Any) -> httpx.Response:
        return httpx.post(
            f"{self.base_url}/internal{path}",
            json=body,
            headers={"Authorization": f"Bearer {SERVICE_KEY}"},
            timeout=30,
        )

    @property
    def return_url(self) -> str:
        return f"{self.base_url}/healthz"  # the ledger's own address: allowed without a setting


@pytest.fixture
def simulated(database_url: str, clock: FixedClock) -> Iterator[Simulated]:
    """As the embedded default has it: the simulated processor, no Turnstile settings, no
    Redis, no script URL or return URL configured."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        pool_size=4,
        console_url=base_url,
        simulated_processor=True,
    )
    container = build(settings, clock=clock)
    app = app_of(container, ApiKeys([service_key()]))
    with store_feed(container), _serving(app, sock):
        yield Simulated(base_url, container)
    container.close()


def enter_card(page: Page, number: str) -> None:
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Verify you are human (simulated Turnstile)").check()
    page.get_by_role("button", name="Save card").click()


def test_a_test_card_is_vaulted_at_the_simulated_processor(
    page: Page, simulated: Simulated
) -> None:
    account_id, url = simulated.page_url()
    response = page.goto(url)
    assert response is not None
    csp = dict(
        d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";")
    )
    assert (csp["script-src"], csp["connect-src"], csp["frame-src"]) == (
        "'self'",
        "'self'",
        "'none'",
    )
    expect(page.get_by_test_id("simulated")).to_contain_text("Simulated processor")
    enter_card(page, "4242 4242 4242 4242")
    page.wait_for_url(simulated.return_url)
    account = load_account(simulated.container.app, account_id)
    (method,) = account.methods.values()
    assert (method.kind, method.last4, str(method.processor_ref)[:7]) == (
        MethodKind.CARD,
        "4242",
        "pm_sim_",
    )
    assert account.default_method_id == method.method_id


def test_a_declined_and_a_3d_secure_test_card(page: Page, simulated: Simulated) -> None:
    account_id, url = simulated.page_url()
    page.goto(url)
    enter_card(page, "4000000000009995")
    expect(page.get_by_role("alert")).to_have_text(
        "Your card has insufficient funds. Nothing was saved."
    )
    assert load_account(simulated.container.app, account_id).methods == {}
    account_id, url = simulated.page_url()
    page.goto(url)
    enter_card(page, "4000002500003155")
    page.get_by_role("dialog", name="3-D Secure (simulated)").get_by_role(
        "button", name="Complete authentication"
    ).click()
    page.wait_for_url(simulated.return_url)
    (method,) = load_account(simulated.container.app, account_id).methods.values()
    assert method.last4 == "3155"


def test_paypal_is_vaulted_on_a_simulated_billing_agreement(
    page: Page, simulated: Simulated
) -> None:
    account_id, url = simulated.page_url("paypal")
    page.goto(url)
    page.get_by_label("Verify you are human (simulated Turnstile)").check()
    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(simulated.return_url)
    account = load_account(simulated.container.app, account_id)
    (method,) = account.methods.values()
    assert method.kind is MethodKind.PAYPAL
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE


def test_the_simulated_scripts_are_not_served_beside_a_real_processor(
    pay_live: object,
) -> None:
    base = pay_live.base_url  # type: ignore[attr-defined]
    for path in ("/pay/simulated/js/stripe.js", "/pay/simulated/js/turnstile.js"):
        assert httpx.get(base + path).status_code == 404


def test_a_payment_waiting_for_3d_secure_is_confirmed_in_the_page(
    page: Page, simulated: Simulated
) -> None:
    account_id, _ = simulated.page_url()
    vaulted = simulated.service(
        f"/accounts/{account_id}/payment-methods/cards/vaulted",
        payment_method="pm_card_chargeCustomerFail",
    )
    assert vaulted.status_code == 201, vaulted.text
    subscribed = simulated.service(
        f"/accounts/{account_id}/subscriptions", plan_id="pro-monthly-usd", on_session=False
    )
    assert subscribed.json()["payment"]["status"] == "failed"
    page.goto(simulated.session(account_id, pay_open_invoices=True))
    enter_card(page, "4000002500003155")
    page.get_by_role("button", name="Complete authentication").click()  # the card's setup
    expect(page.get_by_role("status")).to_have_text("Your bank asks you to confirm the payment…")
    page.get_by_role("button", name="Complete authentication").click()  # the payment
    page.wait_for_url(simulated.return_url)
    account = load_account(simulated.container.app, account_id)
    (attempt,) = [a for a in account.attempts.values() if a.status.value == "requires_action"]
    assert simulated.container.simulated is not None
    charged = simulated.container.simulated.find_charge(attempt.attempt_id, attempt.processor)
    assert charged is not None
    assert charged.succeeded  # the ledger hears of it from the processor (the janitor)


def test_paypal_added_from_the_billing_pages_moves_the_subscription_to_invoices(
    page: Page, simulated: Simulated
) -> None:
    """The embedded default end to end from the billing pages: a card customer adds PayPal
    through the simulated page, comes back to the list showing it, and the overview says the
    plan is now invoiced and paid by PayPal."""
    deps = simulated.container.deps
    account_id = accounts.open_account(deps, open_cmd("Ada", "USD"), service_ctx()).account_id
    vaulted = simulated.service(
        f"/accounts/{account_id}/payment-methods/cards/vaulted", payment_method="pm_card_visa"
    )
    assert vaulted.status_code == 201, vaulted.text
    bought = simulated.service(f"/accounts/{account_id}/subscriptions", plan_id="pro-monthly-usd")
    assert bought.json()["payment"]["status"] == "succeeded", bought.text
    caught_up(simulated.container)
    page.goto(make_portal_link(simulated.container, account_id, "test").url)
    expect(page.get_by_test_id("paid-how")).to_have_text(
        ["Charged automatically to Visa •••• 4242"]
    )
    page.get_by_role("navigation").get_by_role("link", name="Payment methods").click()
    page.get_by_test_id("add-method").click()
    page.get_by_test_id("add-paypal").click()
    page.get_by_label("Verify you are human (simulated Turnstile)").check()
    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_role("button", name="Agree and continue").click()
    page.wait_for_url(f"{simulated.base_url}/billing/payment-methods?*")
    expect(page.get_by_test_id("done")).to_have_text("Your payment method was added.")
    expect(page.get_by_test_id("method").filter(has_text="PayPal")).to_contain_text("Default")
    page.get_by_role("navigation").get_by_role("link", name="Overview").click()
    expect(page.get_by_test_id("paid-how")).to_contain_text(["Invoiced, paid by PayPal"])
    path = load_account(simulated.container.app, account_id).collection_path
    assert path is CollectionPath.PAYPAL_SEND_INVOICE
