"""Paying bad debt from the console, in chromium: support chooses which uncollectible
invoices to charge and with which method. Paying one of two keeps the bad-debt flag (the
page says so); paying the other lifts it, and both invoices then show "Recovered" with the
date each was marked uncollectible and the date it was paid. A charge that declines is
said in words."""

from __future__ import annotations

import re
from uuid import UUID, uuid4

from playwright.sync_api import Page, expect

from commands import bad_debt, dunning
from commands.base import load_account
from commands.models import PayBadDebt, RunBilling
from tests.browser.conftest import SUPPORT, LiveConsole
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.builders import support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def two_uncollectible(live: LiveConsole, clock: FixedClock, gateway: FakeGateway) -> UUID:
    """Two subscriptions whose first invoices declined until dunning gave up on both."""
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.always_decline(CARD, "insufficient_funds")
    subscribe(deps, account_id, on_session=False)
    clock.advance(minutes=5)
    subscribe(deps, account_id, on_session=False)
    clock.advance(days=1)
    for _ in range(10):
        dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
        clock.advance(days=1)
    gateway._always.clear()
    live.caught_up()
    return account_id


def pay(page: Page, live: LiveConsole, account_id: UUID, numbers: list[str], reason: str) -> None:
    """From the account page: choose these invoices, the default method, a reason; confirm."""
    page.goto(live.url(f"/console/accounts/{account_id}"))
    page.get_by_test_id("act-pay-bad-debt").get_by_role("link", name="Pay bad debt").click()
    for number in numbers:
        page.get_by_label(number).check()
    method = page.get_by_label("Payment method")
    method.select_option(label="visa ending 4242, expires 12/2030 (default)")
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm: Pay bad debt")


def invoice_numbers(page: Page, live: LiveConsole, account_id: UUID) -> list[str]:
    page.goto(live.url(f"/console/accounts/{account_id}/actions/pay-bad-debt"))
    labels = page.get_by_test_id("bad-debt-invoices").locator("label").all_inner_texts()
    return [label.split(":")[0] for label in labels]


def test_bad_debt_is_paid_one_invoice_then_the_other(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = two_uncollectible(live, clock, gateway)
    page.goto(live.link())
    first, second = invoice_numbers(page, live, account_id)

    pay(page, live, account_id, [first], "Ticket 88: the customer paid the first month")
    will = page.get_by_test_id("what-will-happen")
    expect(will).to_contain_text(
        f"Charge invoice {first} (20.00 USD), in full, to visa ending 4242, expires 12/2030"
        " (the default)."
    )
    expect(will).to_contain_text("The account stays in bad debt even if every charge succeeds")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("bad-debt-payments")).to_contain_text(
        f"Invoice {first} (20.00 USD): paid, so it is recovered."
    )
    expect(page.get_by_test_id("bad-debt-flag")).to_have_text(
        f"The account is still in bad debt: 1 invoice still uncollectible ({second})."
    )
    events = page.get_by_test_id("recorded-events")
    expect(events).to_contain_text("PaymentSucceeded")
    expect(events.locator("tbody tr").first).to_contain_text(SUPPORT)
    live.caught_up()
    page.goto(live.url(f"/console/accounts/{account_id}"))
    expect(page.get_by_test_id("health-state")).to_have_text("bad debt")

    pay(page, live, account_id, [second], "Ticket 88: and now the second")
    expect(page.get_by_test_id("what-will-happen")).to_contain_text(
        "If every charge succeeds, nothing is uncollectible and the bad-debt flag is lifted."
    )
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("bad-debt-flag")).to_have_text(
        "The bad-debt flag is lifted: nothing is uncollectible any more."
    )
    live.caught_up()
    page.goto(live.url(f"/console/accounts/{account_id}"))
    expect(page.get_by_test_id("health-state")).not_to_have_text("bad debt")
    for number in (first, second):
        row = page.get_by_test_id("invoices").locator("tbody tr", has_text=number)
        expect(row).to_contain_text("Recovered")
        expect(row).to_contain_text(re.compile(r"uncollectible \S+ \S+ UTC, then paid \S+ \S+ UTC"))


def test_a_declined_charge_is_said_in_words_and_the_other_is_still_paid(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = two_uncollectible(live, clock, gateway)
    page.goto(live.link())
    first, second = invoice_numbers(page, live, account_id)
    pay(page, live, account_id, [first, second], "Ticket 90: card updated by the customer")
    gateway.decline_next(CARD, "insufficient_funds")  # the oldest is charged first
    page.get_by_role("button", name="Confirm").click()
    payments = page.get_by_test_id("bad-debt-payments")
    expect(payments).to_contain_text(
        f"Invoice {first} (20.00 USD): the charge was declined (insufficient funds),"
        " so it is still uncollectible."
    )
    expect(payments).to_contain_text(f"Invoice {second} (20.00 USD): paid, so it is recovered.")
    expect(page.get_by_test_id("bad-debt-flag")).to_contain_text("still in bad debt")
    expect(page.get_by_test_id("recorded-events")).to_contain_text("PaymentFailed")


def test_choosing_no_invoice_is_refused_before_the_confirmation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = two_uncollectible(live, clock, gateway)
    page.goto(live.link())
    page.goto(live.url(f"/console/accounts/{account_id}/actions/pay-bad-debt"))
    page.get_by_label("Reason").fill("Ticket 91")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text(
        "Choose at least one uncollectible invoice to pay."
    )
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)


def test_a_refusal_is_said_in_words_and_nothing_is_recorded(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    """The confirmation page was open while the invoice was paid another way."""
    account_id = two_uncollectible(live, clock, gateway)
    page.goto(live.link())
    first, _ = invoice_numbers(page, live, account_id)
    pay(page, live, account_id, [first], "Ticket 92")
    [invoice_id] = page.locator("form.confirm input[name=invoice_ids]").all()
    paid_meanwhile = PayBadDebt(
        account_id=account_id, invoice_ids=[invoice_id.get_attribute("value") or ""]
    )
    bad_debt.pay_bad_debt(live.container.deps, paid_meanwhile, support_ctx("phone", uuid4()))
    version = load_account(live.container.deps.app, account_id).version
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Not done: Pay bad debt")
    refusal = page.get_by_test_id("refusal")
    expect(refusal).to_contain_text("is paid, not uncollectible")
    expect(refusal).to_contain_text("Nothing was recorded.")
    assert load_account(live.container.deps.app, account_id).version == version
