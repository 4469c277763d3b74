"""The invoice history read model on real PostgreSQL: invoices made by real commands (fake
gateway), projected from the event store, read through the queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Container
from adapters.http.problems import status_of
from commands import bad_debt, billing, dunning, refunds
from commands.base import Deps
from commands.models import PayBadDebt, RefundPayment, RunBilling, Subscribe
from ledger.invoices import DisplayStatus
from projections.base import fold_all
from projections.feed import catch_up, reset
from projections.invoices import InvoiceRow, InvoicesProjection
from queries.invoices import (
    DateRange,
    InvalidCursor,
    InvoiceFilters,
    InvoiceSummary,
    get_invoice,
    list_invoices,
)
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

KEY = b"test-cursor-key"


def project(container: Container) -> None:
    catch_up(container.connection, InvoicesProjection(), container.reader)


def buy(deps: Deps, account_id: UUID, clock: FixedClock) -> str:
    """A new subscription (and so a new paid invoice), a minute after the last one."""
    clock.advance(minutes=1)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=True)
    invoice_id = billing.subscribe(deps, cmd, customer_ctx()).invoice_id
    assert invoice_id is not None
    return invoice_id


def page(
    container: Container, account_id: UUID, cursor: str | None = None, size: int = 2, **f: Any
) -> tuple[list[InvoiceSummary], str | None]:
    with container.connection() as conn:
        found = list_invoices(
            conn, account_id, KEY, container.deps.clock.now(), InvoiceFilters(**f), size, cursor
        )
    return found.items, found.next_cursor


def ids(items: list[InvoiceSummary]) -> list[str]:
    return [i.invoice_id for i in items]


def table_rows(container: Container) -> dict[tuple[UUID, str], InvoiceRow]:
    with container.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT account_id FROM invoices")
        states = InvoicesProjection().load(cur, [r[0] for r in cur.fetchall()])
    return {(a, i): row for a, s in states.items() for i, row in s.invoices.items()}


def test_pages_have_no_duplicates_or_gaps_while_invoices_arrive(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    existing = [buy(deps, account_id, clock) for _ in range(7)]
    project(container)
    seen, cursor = [], None
    while True:
        items, cursor = page(container, account_id, cursor)
        seen += ids(items)
        buy(deps, account_id, clock)  # newer than everything listed so far
        project(container)
        if cursor is None:
            break
    assert seen == list(reversed(existing))


def test_a_tampered_or_foreign_cursor_is_refused(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    other = usd_account(deps)
    for _ in range(3):
        buy(deps, account_id, clock)
    project(container)
    _, cursor = page(container, account_id)
    assert cursor is not None
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    with container.connection() as conn:
        for bad, account, key in [
            (tampered, account_id, KEY),
            (cursor, account_id, b"another-key"),
            (cursor, other, KEY),
            ("not base64 !", account_id, KEY),
        ]:
            with pytest.raises(InvalidCursor) as refused:
                list_invoices(conn, account, key, clock.now(), cursor=bad)
            assert (refused.value.code, status_of(refused.value)) == ("invalid_cursor", 400)


def test_date_filters_include_from_and_exclude_to(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    bought = [buy(deps, account_id, clock) for _ in range(3)]
    project(container)
    items, _ = page(container, account_id, size=10)
    issued = {i.invoice_id: i.finalized_at for i in items}
    second, third = issued[bought[1]], issued[bought[2]]
    assert second is not None
    assert third is not None
    window = DateRange(start=second, end=third)
    assert ids(page(container, account_id, size=10, issued=window)[0]) == [bought[1]]
    assert ids(page(container, account_id, size=10, paid=window)[0]) == [bought[1]]
    later = DateRange(start=second + timedelta(microseconds=1))
    assert ids(page(container, account_id, size=10, issued=later)[0]) == [bought[2]]
    assert page(container, account_id, size=10, due=DateRange(end=third))[0] == []


def make_bad_debt_recovered(
    deps: Deps, account_id: UUID, clock: FixedClock, gw: FakeGateway
) -> list[str]:
    """Dunning exhausts every renewal into bad debt, then PayBadDebt recovers them all."""
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    clock.advance(days=31)
    gw.always_decline(CARD, "insufficient_funds")
    exhausted: list[str] = []
    for _ in range(12):
        exhausted += dunning.run_billing(
            deps, RunBilling(account_ids=[account_id]), system_ctx()
        ).exhausted
        clock.advance(days=1)
    gw._always.clear()
    bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=account_id), customer_ctx(uuid4()))
    return exhausted


def test_a_recovered_bad_debt_is_listed_as_recovered_with_both_dates(
    container: Container, deps: Deps, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    [bad] = make_bad_debt_recovered(deps, account_id, clock, gateway)
    project(container)
    [recovered], _ = page(container, account_id, status=DisplayStatus.RECOVERED)
    assert (recovered.invoice_id, recovered.display_status) == (bad, DisplayStatus.RECOVERED)
    assert recovered.marked_uncollectible_at is not None
    assert recovered.paid_at is not None
    assert recovered.marked_uncollectible_at < recovered.paid_at
    everything, _ = page(container, account_id, size=100)
    for item in everything:  # the SQL status filter agrees with the domain's display status
        listed, _ = page(container, account_id, size=100, status=item.display_status)
        assert item.invoice_id in ids(listed)
        assert {i.display_status for i in listed} == {item.display_status}


def test_the_detail_shows_attempts_refunds_and_the_timeline(
    container: Container, deps: Deps, clock: FixedClock, gateway: FakeGateway
) -> None:
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "insufficient_funds")
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    invoice_id = billing.subscribe(deps, cmd, customer_ctx()).invoice_id
    assert invoice_id is not None
    clock.advance(days=1)
    dunning.run_billing(deps, RunBilling(account_ids=[account_id]), system_ctx())
    with container.connection() as conn:
        project(container)
        detail = get_invoice(conn, account_id, invoice_id, clock.now())
    assert detail is not None
    failed, paid = detail.attempts
    refund = RefundPayment(account_id=account_id, attempt_id=paid["attempt_id"], amount=500)
    refunds.refund_payment(deps, refund, support_ctx("refund", uuid4()))
    project(container)
    with container.connection() as conn:
        detail = get_invoice(conn, account_id, invoice_id, clock.now())
        assert get_invoice(conn, account_id, "nope", clock.now()) is None
    assert detail is not None
    failed, paid = detail.attempts
    assert (failed["status"], failed["decline_code"]) == ("failed", "insufficient_funds")
    assert (paid["status"], [r["amount"] for r in paid["refunds"]]) == ("succeeded", [500])
    assert [t["status"] for t in detail.timeline] == ["draft", "open", "paid"]
    assert (detail.display_status, detail.total, len(detail.lines)) == (DisplayStatus.PAID, 2000, 1)


def test_a_rebuild_from_the_store_equals_the_incremental_build(
    container: Container, deps: Deps, clock: FixedClock, gateway: FakeGateway
) -> None:
    for _ in range(2):
        account_id = usd_account(deps)
        buy(deps, account_id, clock)
        project(container)
        make_bad_debt_recovered(deps, account_id, clock, gateway)
        project(container)
    incremental = table_rows(container)
    assert len(incremental) >= 6
    with container.connection() as conn:
        reset(conn, InvoicesProjection())
    assert table_rows(container) == {}
    project(container)
    assert table_rows(container) == incremental
    folded = fold_all(InvoicesProjection(), container.reader.read_after(0, 100_000))
    in_memory = {(a, i): r for a, s in folded.items() if s for i, r in s.invoices.items()}
    assert incremental == in_memory


def test_times_in_the_table_are_the_events_times(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = usd_account(deps)
    buy(deps, account_id, clock)
    project(container)
    [item], _ = page(container, account_id)
    assert item.created_at == item.finalized_at == item.paid_at == clock.now()
    assert isinstance(item.created_at, datetime)
