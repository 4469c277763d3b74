"""Every console page, checked by axe-core (vendored, tests/browser/vendor) in chromium: no
serious or critical accessibility violation."""

from __future__ import annotations

from uuid import UUID, uuid4

from playwright.sync_api import Page, expect

from commands import billing, credits, disputes
from commands.models import GrantCredit, OpenDispute, Subscribe
from tests.browser.actions2 import confirm, on_a_clock, review, stuck
from tests.browser.conftest import LiveConsole, serious_violations
from tests.browser.pay import LivePay, pass_the_check
from tests.browser.test_console_account import into_bad_debt
from tests.fakes.billing import CARD, PLAN, add_paypal, usd_account
from tests.fakes.builders import customer_ctx, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway


def checked(page: Page, url: str) -> None:
    page.goto(url)
    assert serious_violations(page) == [], url


def test_every_console_page_has_no_serious_accessibility_violation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    deps = live.container.deps
    account_id = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=31)
    gateway.require_action_next(CARD)
    other = usd_account(deps)
    billing.subscribe(deps, Subscribe(account_id=other, plan_id=PLAN), customer_ctx())
    detailed = detailed_accounts(live, clock, gateway)
    live.caught_up()
    checked(page, live.url("/console/"))  # not signed in
    checked(page, live.url("/console/sign-in?token=made-up"))  # a refused link
    page.goto(live.link())
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    for path in (
        "/console/",
        "/console/?q=ada",
        "/console/?q=nobody-at-all",
        f"/console/accounts/{account_id}",
        f"/console/accounts/{other}",
        *(f"/console/accounts/{a}" for a in detailed),
        f"/console/accounts/{account_id}?issued_from=2026-01-01&issued_to=2026-12-31",
        f"/console/accounts/{account_id}?due_from=2026-02-01&due_to=2026-01-01",  # refused (400)
        f"/console/accounts/{uuid4()}",
        f"/console/accounts/{account_id}/history",
        f"/console/accounts/{account_id}/history?type=PaymentSucceeded&since=2026-01-01T00:00",
        f"/console/accounts/{account_id}/as-of",
        f"/console/accounts/{account_id}/as-of?version=3",
        f"/console/accounts/{other}/as-of?at=2026-03-01T00:00:00",
        f"/console/accounts/{account_id}/as-of?at=2020-01-01T00:00",  # before it was opened
        "/console/fleet",
        "/console/fleet/accounts?state=at_risk",
        "/console/fleet/accounts?state=lifting",
        "/console/?q=" + "x" * 201,
    ):
        checked(page, live.url(path))
    page.goto(live.url("/console/"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    assert serious_violations(page) == []


def detailed_accounts(live: LiveConsole, clock: FixedClock, gateway: FakeGateway) -> list[UUID]:
    """A PayPal account; one with a credit and a dispute; one in bad debt."""
    deps = live.container.deps
    paypal = usd_account(deps)
    add_paypal(deps, paypal)
    billing.subscribe(
        deps, Subscribe(account_id=paypal, plan_id=PLAN, on_session=False), customer_ctx()
    )
    disputed = usd_account(deps)
    grant = GrantCredit(account_id=disputed, amount=500, currency="USD")
    credits.grant_credit(deps, grant, support_ctx("goodwill"))
    paid = billing.subscribe(deps, Subscribe(account_id=disputed, plan_id=PLAN), customer_ctx())
    assert paid.payment is not None
    opened = OpenDispute(
        account_id=disputed, attempt_id=paid.payment.attempt_id, dispute_id="dp_1", amount=900
    )
    disputes.open_dispute(deps, opened, support_ctx("chargeback notice"))
    bad = usd_account(deps)
    into_bad_debt(live, bad, clock, gateway)
    return [paypal, disputed, bad]


def test_the_check_finds_a_violation_when_there_is_one(page: Page, live: LiveConsole) -> None:
    page.goto(live.link())
    page.get_by_label("Email, name, account id").evaluate(
        "input => input.labels.forEach(label => label.remove())"
    )
    found = serious_violations(page)
    assert [v["id"] for v in found] == ["label"]


def test_every_action_page_has_no_serious_accessibility_violation(
    page: Page, live: LiveConsole
) -> None:
    """Each action's steps: its form (also with an error), the confirmation, the result, a
    refusal."""
    account_id = usd_account(live.container.deps)
    live.caught_up()
    page.goto(live.link())
    checked(page, live.url(f"/console/accounts/{account_id}/actions/recompute"))
    page.get_by_label("Reason").fill(" ")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_label("Reason").fill("Accessibility check")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_test_id("what-will-happen")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("recorded-events")).to_be_visible()
    assert serious_violations(page) == []
    grant = GrantCredit(account_id=account_id, amount=500, currency="USD")
    credits.grant_credit(live.container.deps, grant, support_ctx("a credit to list"))
    for slug in ("pay-bad-debt", "retry-payment", "grant-credit", "revoke-credit"):
        checked(page, live.url(f"/console/accounts/{account_id}/actions/{slug}"))
    page.get_by_label("Reason").fill("Accessibility check")
    page.get_by_role("button", name="Review").click()  # no credit chosen: said in words
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    page.goto(live.url(f"/console/accounts/{account_id}/actions/grant-credit"))
    page.get_by_label("Amount in USD").fill("5")
    page.get_by_label("Expires on").fill("2020-01-01")
    page.get_by_label("Reason").fill("Accessibility check")
    page.get_by_role("button", name="Review").click()
    page.get_by_role("button", name="Confirm").click()  # the domain refuses the expiry
    expect(page.get_by_test_id("refusal")).to_be_visible()
    assert serious_violations(page) == []


ACTIONS2_SLUGS = (
    "void",
    "write-off",
    "write-off-bad-debt",
    "refund",
    "reconcile",
    "repair",
    "resolve-in-flight",
)


def test_the_second_actions_pages_have_no_serious_accessibility_violation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    """Void, write off, refund, reconcile now, repair, resolve in flight and advance the test
    clock: the account page's panels, each form, a confirmation, a result and a refusal."""
    stuck_id = stuck(live, clock, gateway)
    clocked = on_a_clock(live, clock)
    page.goto(live.link())
    for slug in ACTIONS2_SLUGS:
        checked(page, live.url(f"/console/accounts/{stuck_id}/actions/{slug}"))
    checked(page, live.url(f"/console/accounts/{clocked}/actions/advance-clock"))
    checked(page, live.url(f"/console/accounts/{stuck_id}"))
    page.get_by_test_id("act-reconcile").get_by_label("Reason").fill("Accessibility check")
    page.get_by_role("button", name="Reconcile…").click()
    confirm(page, "Reconcile now")
    assert serious_violations(page) == []
    checked(page, live.url(f"/console/accounts/{stuck_id}"))  # with a repair's form
    page.get_by_test_id("act-repair").get_by_label("Reason").fill("Accessibility check")
    page.get_by_role("button", name="Repair…").click()
    assert serious_violations(page) == []
    confirm(page, "Repair a reconciliation finding")
    assert serious_violations(page) == []
    checked(page, live.url(f"/console/accounts/{clocked}/actions/refund"))
    page.get_by_label("Amount to refund, in USD").fill("99")
    review(page, "Accessibility check")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("refusal")).to_be_visible()
    assert serious_violations(page) == []
    checked(page, live.url(f"/console/accounts/{clocked}"))  # with the test clock's form
    page.get_by_test_id("act-advance-clock").get_by_label("Reason").fill("Accessibility check")
    page.get_by_role("button", name="Advance…").click()
    confirm(page, "Advance the test clock")
    assert serious_violations(page) == []


def test_the_payment_page_has_no_serious_accessibility_violation(
    page: Page, pay_live: LivePay
) -> None:
    """The card page (empty, with a decline shown, with the 3-D Secure dialog open), the
    PayPal page (with PayPal's approval open) and a refused link."""
    account_id = pay_live.open_account()
    url = pay_live.page_url(account_id)
    page.goto(url)
    assert serious_violations(page) == []
    page.get_by_label("Card number").fill("4000000000000002")
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("CVC").fill("123")
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_contain_text("declined")
    assert serious_violations(page) == []
    page.goto(pay_live.page_url(account_id))
    page.get_by_label("Card number").fill("4000002500003155")
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("CVC").fill("123")
    pass_the_check(page)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert serious_violations(page) == []
    page.goto(pay_live.page_url(account_id, "paypal"))
    assert serious_violations(page) == []
    pass_the_check(page)
    page.get_by_role("button", name="Pay with PayPal").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert serious_violations(page) == []
    page.goto(url.replace("sig=", "sig=0"))
    expect(page.get_by_role("heading", name="This payment link cannot be used")).to_be_visible()
    assert serious_violations(page) == []
