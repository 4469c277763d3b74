"""Payment methods in chromium, as the customer: the list (brand, last four, expiry, PayPal
email, the default), make one the default, remove one after confirming, a removal refused
while the method is needed (with the reason), the way to add one, and another account's
method reached by editing the address: the 404 page."""

from __future__ import annotations

from uuid import UUID

from playwright.sync_api import Locator, Page, expect

from commands import accounts, billing, methods
from commands.base import load_account
from commands.models import AddCard, CloseAccount, Subscribe
from tests.browser.conftest import LiveConsole
from tests.browser.portal import open_portal
from tests.fakes.billing import PLAN, add_paypal, usd_account
from tests.fakes.builders import customer_ctx

MASTERCARD = "pm_card_mastercard"


def add_mastercard(live: LiveConsole, account_id: UUID) -> str:
    cmd = AddCard(
        account_id=account_id,
        processor_ref=MASTERCARD,
        brand="mastercard",
        last4="4444",
        exp_month=3,
        exp_year=2031,
        make_default=False,
    )
    methods.add_card(live.container.deps, cmd, customer_ctx())
    found = load_account(live.container.deps.app, account_id).methods.values()
    return next(m.method_id for m in found if m.processor_ref == MASTERCARD)


def open_methods(page: Page, live: LiveConsole, account_id: UUID) -> None:
    open_portal(page, live, account_id)
    page.get_by_role("navigation").get_by_role("link", name="Payment methods").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment methods")


def row(page: Page, name: str) -> Locator:
    return page.get_by_test_id("method").filter(has_text=name)


def test_the_list_shows_each_method_and_the_default(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    add_paypal(live.container.deps, account_id)  # made the default
    add_mastercard(live, account_id)
    open_methods(page, live, account_id)
    names = page.get_by_test_id("method-name")
    expect(names).to_have_text(
        ["Visa •••• 4242", "PayPal payer@example.com", "Mastercard •••• 4444"]
    )
    expect(row(page, "Visa")).to_contain_text("12/2030")
    expect(row(page, "Mastercard")).to_contain_text("03/2031")
    expect(row(page, "PayPal").get_by_test_id("method-status")).to_have_text("Default")
    expect(row(page, "Visa").get_by_test_id("method-status")).to_have_text("")
    expect(page.get_by_role("button", name="Make default PayPal payer@example.com")).to_have_count(
        0
    )
    expect(page.get_by_role("button", name="Make default Visa •••• 4242")).to_be_visible()
    expect(page.get_by_test_id("add-method")).to_have_attribute(
        "href", "/billing/payment-methods/new"
    )


def test_make_a_method_the_default(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    method_id = add_mastercard(live, account_id)
    open_methods(page, live, account_id)
    page.get_by_role("button", name="Make default Mastercard •••• 4444").click()
    expect(page.get_by_test_id("done")).to_have_text("Your default payment method was changed.")
    expect(row(page, "Mastercard").get_by_test_id("method-status")).to_have_text("Default")
    assert load_account(live.container.deps.app, account_id).default_method_id == method_id
    page.get_by_role("navigation").get_by_role("link", name="Overview").click()
    expect(page.get_by_test_id("default-method")).to_have_text(
        "Mastercard •••• 4444, expires 03/2031"
    )


def test_remove_a_method_after_confirming(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    method_id = add_mastercard(live, account_id)
    open_methods(page, live, account_id)
    page.get_by_role("link", name="Remove Mastercard •••• 4444").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove Mastercard •••• 4444?")
    page.get_by_role("button", name="Remove Mastercard •••• 4444").click()
    expect(page.get_by_test_id("done")).to_have_text("The payment method was removed.")
    expect(page.get_by_test_id("method-name")).to_have_text(["Visa •••• 4242"])
    assert not load_account(live.container.deps.app, account_id).methods[method_id].usable


def test_the_only_method_of_a_renewing_subscription_cannot_be_removed(
    page: Page, live: LiveConsole
) -> None:
    """The confirmation says so before asking; a confirmation opened before a subscription
    started is refused by the domain, in words."""
    deps = live.container.deps
    account_id = usd_account(deps)
    open_methods(page, live, account_id)
    page.get_by_role("link", name="Remove Visa •••• 4242").click()
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    page.get_by_role("button", name="Remove Visa •••• 4242").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This payment method is still needed")
    expect(page.get_by_test_id("message")).to_contain_text(
        "It is the only payment method for a subscription that renews. Add another payment"
        " method first, or cancel the subscription. Nothing was changed."
    )
    assert "payment_method_needed" not in page.content()
    assert all(m.usable for m in load_account(deps.app, account_id).methods.values())
    live.caught_up()
    page.goto(live.url("/billing/payment-methods"))
    page.get_by_role("link", name="Remove Visa •••• 4242").click()
    expect(page.get_by_test_id("needed")).to_contain_text(
        "This payment method is still needed Visa •••• 4242 is your only payment method, and a"
        " subscription renews with it."
    )
    expect(page.get_by_role("button", name="Remove Visa •••• 4242")).to_have_count(0)
    expect(
        page.get_by_test_id("needed").get_by_role("link", name="Add a payment method")
    ).to_be_visible()


def test_another_account_method_in_the_address_is_not_found(page: Page, live: LiveConsole) -> None:
    deps = live.container.deps
    other = usd_account(deps)
    theirs = next(iter(load_account(deps.app, other).methods))
    open_methods(page, live, usd_account(deps))
    response = page.goto(live.url(f"/billing/payment-methods/{theirs}/remove"))
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    page.goto(live.url("/billing/payment-methods"))
    form = page.locator("form").filter(has=page.get_by_role("button", name="Sign out"))
    csrf = form.locator("input[name=csrf_token]").input_value()
    posted = page.request.post(
        live.url(f"/billing/payment-methods/{theirs}/default"),
        form={"csrf_token": csrf, "key": "k-1"},
    )
    assert posted.status == 404
    assert "Not found" in posted.text()
    assert load_account(deps.app, other).default_method_id == theirs


def test_an_action_without_the_csrf_token_is_refused(page: Page, live: LiveConsole) -> None:
    account_id = usd_account(live.container.deps)
    add_mastercard(live, account_id)
    open_methods(page, live, account_id)
    page.locator("form[action$='/default'] input[name=csrf_token]").evaluate(
        "input => input.remove()"
    )
    page.get_by_role("button", name="Make default Mastercard •••• 4444").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This form was not accepted")
    account = load_account(live.container.deps.app, account_id)
    assert account.default_method_id is not None
    assert account.methods[account.default_method_id].processor_ref != MASTERCARD


def test_a_closed_account_reads_so_and_refuses_changes_in_words(
    page: Page, live: LiveConsole
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    add_mastercard(live, account_id)
    open_portal(page, live, account_id)
    accounts.close_account(deps, CloseAccount(account_id=account_id), customer_ctx())
    live.caught_up()
    page.reload()
    expect(page.get_by_test_id("state")).to_have_text("This account is closed.")
    page.get_by_role("navigation").get_by_role("link", name="Payment methods").click()
    page.get_by_role("button", name="Make default Mastercard •••• 4444").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This account is closed")
    expect(page.get_by_test_id("message")).to_contain_text("can no longer be changed")
