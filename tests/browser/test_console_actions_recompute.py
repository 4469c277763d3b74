"""The recompute action in chromium, as a support agent would use it: a stuck account is
recomputed with a reason through a confirmation; the result shows the read models' diff
and the events the action recorded (actor, surface, reason, correlation id). The framework's
refusals: a missing reason, a form without its CSRF token, a principal without the scope."""

from __future__ import annotations

from uuid import UUID

import pytest
from playwright.sync_api import Page, expect

from adapters.http.console.acting import recorded
from commands import billing
from commands.models import Subscribe
from commands.ports import ProcessorUnavailable
from tests.browser.conftest import READER, SUPPORT, LiveConsole
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

REASON = "Ticket 4711: the customer says the payment is stuck"
WRONG = "wrong@example.com"


def stuck_account(live: LiveConsole, clock: FixedClock, gateway: FakeGateway) -> UUID:
    """An attempt recorded, its charge never answered, three hours ago."""
    deps = live.container.deps
    account_id = usd_account(deps)
    gateway.go_down_next(CARD)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(deps, cmd, customer_ctx())
    clock.advance(hours=3)
    live.caught_up()
    return account_id


def went_wrong(live: LiveConsole, account_id: UUID) -> None:
    """A read model that no longer says what the events say."""
    with live.container.connection() as conn:
        sql = "UPDATE accounts SET email = %s WHERE account_id = %s"
        conn.execute(sql, (WRONG, account_id))


def open_account(page: Page, live: LiveConsole, account_id: UUID, who: str = SUPPORT) -> None:
    page.goto(live.link(who))
    page.goto(live.url(f"/console/accounts/{account_id}"))


def test_a_stuck_account_is_recomputed_with_a_reason_and_shows_the_diff_and_its_events(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck_account(live, clock, gateway)
    went_wrong(live, account_id)
    open_account(page, live, account_id)
    expect(page.get_by_test_id("health-state")).to_have_text("stuck")
    form = page.get_by_test_id("act-recompute")
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Recompute").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm: Recompute the read models")
    expect(page.get_by_test_id("what-will-happen")).to_contain_text("rebuilt from the events")
    expect(page.get_by_test_id("confirm-reason")).to_have_text(REASON)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Done: Recompute the read models")
    diff = page.get_by_test_id("recompute-diff")
    row = diff.locator("tbody tr", has_text="email")
    expect(row.locator("td")).to_have_text(["accounts", "email", WRONG, "ada@example.com"])
    applied = diff.locator("tbody tr", has_text="events_applied").locator("td")
    expect(applied).to_have_text(["accounts", "events_applied", "6", "7"])  # its own event
    [event] = page.get_by_test_id("recorded-events").locator("tbody tr").all()
    expect(event).to_contain_text("AccountRecomputeRequested")
    expect(event).to_contain_text(SUPPORT)
    expect(event).to_contain_text("ninjapanel")
    expect(event).to_contain_text(REASON)
    correlation = UUID(page.get_by_test_id("correlation-id").inner_text())
    [stored] = recorded(live.container, account_id, correlation)
    assert (stored.actor_id, stored.surface, stored.reason) == (SUPPORT, "ninjapanel", REASON)

    page.get_by_test_id("in-history").click()  # the account's history, this request only
    expect(page.get_by_test_id("correlation-filter")).to_contain_text(str(correlation))
    [in_history] = page.get_by_test_id("event").all()
    expect(in_history).to_contain_text("recompute")
    expect(in_history.get_by_test_id("actor")).to_have_text(f"{SUPPORT} support")
    expect(in_history.get_by_test_id("surface")).to_have_text("ninjapanel")
    expect(in_history.get_by_test_id("reason")).to_have_text(REASON)


def test_a_confirmation_sent_twice_does_nothing_twice(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck_account(live, clock, gateway)
    went_wrong(live, account_id)
    open_account(page, live, account_id)
    form = page.get_by_test_id("act-recompute")
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Recompute").click()
    confirmation = page.locator("form.confirm")
    action = confirmation.get_attribute("action") or ""
    fields: dict[str, str | float | bool] = {
        field.get_attribute("name") or "": field.get_attribute("value") or ""
        for field in confirmation.locator("input[type=hidden]").all()
    }
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("recompute-diff")).to_contain_text(WRONG)
    again = page.request.post(action, form=fields)  # the same form sent a second time
    assert again.status == 200
    page.set_content(again.text())
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Already done: Recompute the read models"
    )
    expect(page.get_by_test_id("recorded-events").locator("tbody tr")).to_have_count(1)
    assert _recompute_requests(live, account_id) == 1


def test_a_missing_reason_is_refused_before_the_confirmation(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck_account(live, clock, gateway)
    open_account(page, live, account_id)
    form = page.get_by_test_id("act-recompute")
    form.get_by_label("Reason").fill("   ")  # the browser's `required` lets spaces through
    form.get_by_role("button", name="Recompute").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recompute the read models")
    expect(page.get_by_test_id("form-errors")).to_contain_text("Give a reason")
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)
    assert _recompute_requests(live, account_id) == 0


def test_an_action_without_its_csrf_token_is_refused(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck_account(live, clock, gateway)
    open_account(page, live, account_id)
    form = page.get_by_test_id("act-recompute")
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Recompute").click()
    page.locator("form.confirm input[name=csrf_token]").evaluate("e => e.remove()")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This form was not accepted")
    assert _recompute_requests(live, account_id) == 0


def test_a_principal_without_the_scope_is_refused(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck_account(live, clock, gateway)
    open_account(page, live, account_id, READER)
    form = page.get_by_test_id("act-recompute")
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Recompute").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You may not do this")
    expect(page.get_by_text("needs the scope accounts:write")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(READER)
    assert _recompute_requests(live, account_id) == 0


def _recompute_requests(live: LiveConsole, account_id: UUID) -> int:
    with live.container.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM ledger_events WHERE originator_id = %s AND topic LIKE %s",
            (account_id, "%RecomputeRequested%"),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_cancel_on_the_confirmation_does_nothing(
    page: Page, live: LiveConsole, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = stuck_account(live, clock, gateway)
    open_account(page, live, account_id)
    form = page.get_by_test_id("act-recompute")
    form.get_by_label("Reason").fill(REASON)
    form.get_by_role("button", name="Recompute").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("health-state")).to_have_text("stuck")
    assert _recompute_requests(live, account_id) == 0
