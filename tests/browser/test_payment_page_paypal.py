"""The payment page, PayPal path, in chromium: Braintree's client and PayPal checkout (the
stand-ins) tokenize a billing agreement at the local Braintree gateway on the session's
client token, Turnstile gives a token, and the ledger vaults the PayPal account as the
default (the send-invoice collection path) before sending the customer back."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from commands.base import load_account
from ledger.methods import CollectionPath, MethodKind, VaultPath
from tests.braintree_gateway import LocalBraintreeGateway
from tests.browser.pay import LivePay, pass_the_check


def test_a_paypal_account_is_vaulted_as_the_default_and_the_customer_returns(
    page: Page, pay_live: LivePay, pay_braintree: LocalBraintreeGateway
) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id, "paypal"))
    expect(page.get_by_role("heading", name="Add a PayPal account")).to_be_visible()
    pass_the_check(page)
    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_role("dialog", name="PayPal (test stand-in)").get_by_role(
        "button", name="Agree and continue"
    ).click()
    page.wait_for_url(pay_live.standins.return_url)
    account = load_account(pay_live.container.app, account_id)
    (method,) = account.methods.values()
    assert (method.kind, method.vault_path) == (MethodKind.PAYPAL, VaultPath.BILLING_AGREEMENT)
    assert account.default_method_id == method.method_id
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    # the nonce came from the browser client's tokenization, and was vaulted once
    assert pay_braintree.calls.count("POST", r"/client_api/v1/payment_methods/paypal_accounts") == 1
    assert pay_braintree.calls.count("POST", r"/payment_methods") == 1


def test_paypal_without_the_check_or_cancelled_vaults_nothing(
    page: Page, pay_live: LivePay
) -> None:
    account_id = pay_live.open_account()
    page.goto(pay_live.page_url(account_id, "paypal"))
    page.get_by_role("button", name="Pay with PayPal").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Please complete the check that you are a person first."
    )
    pass_the_check(page)
    page.get_by_role("button", name="Pay with PayPal").click()
    page.get_by_role("button", name="Cancel and return").click()
    expect(page.get_by_role("alert")).to_have_text("PayPal was not connected. Nothing was saved.")
    assert load_account(pay_live.container.app, account_id).methods == {}
    assert pay_live.turnstile.checks == []  # nothing reached the ledger's completion
