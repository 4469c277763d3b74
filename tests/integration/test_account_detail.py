"""The account detail read model on real PostgreSQL: a corrupted row is repaired by a
recompute of the account to what a rebuild gives, the change names the columns it put
back, and the console's query reads the methods, subscriptions, credits, disputes and bad
debt the commands made."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from psycopg.types.json import Jsonb

from adapters.bootstrap import Container
from adapters.recompute import recompute
from commands import billing, credits, disputes
from commands.base import Deps
from commands.models import GrantCredit, OpenDispute, Subscribe
from projections.feed import catch_up, reset
from projections.recompute import stored_rows
from queries.account_detail import account_detail
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx, support_ctx
from tests.fakes.clock import FixedClock


def project(container: Container) -> None:
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)


def history(deps: Deps, clock: FixedClock) -> UUID:
    """A card, a credit used by the first invoice, a paid subscription with a dispute."""
    account_id = usd_account(deps)
    grant = GrantCredit(account_id=account_id, amount=500, currency="USD")
    credits.grant_credit(deps, grant, support_ctx("late delivery"))
    paid = billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    assert paid.payment is not None
    clock.advance(days=2)
    opened = OpenDispute(
        account_id=account_id, attempt_id=paid.payment.attempt_id, dispute_id="dp_7", amount=900
    )
    disputes.open_dispute(deps, opened, support_ctx("chargeback notice"))
    return account_id


def detail_row(container: Container, account_id: UUID) -> dict[str, object]:
    projection = container.projections["account_detail"]
    with container.connection() as conn, conn.cursor() as cur:
        return stored_rows(cur, projection.tables, account_id)


def stored_methods(container: Container, account_id: UUID) -> dict[str, dict[str, object]]:
    with container.connection() as conn:
        row = conn.execute(
            "SELECT methods FROM account_detail WHERE account_id = %s", (account_id,)
        ).fetchone()
    assert row is not None
    return dict(row[0])


def test_a_corrupted_detail_row_is_recomputed_to_what_a_rebuild_gives(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = history(deps, clock)
    project(container)
    good = detail_row(container, account_id)
    [(method_id, method)] = stored_methods(container, account_id).items()
    with container.connection() as conn, conn.transaction():
        wrong = {method_id: {**method, "last4": "0000"}}
        conn.execute(
            "UPDATE account_detail SET methods = %s, credits = '{}' WHERE account_id = %s",
            (Jsonb(wrong), account_id),
        )
    result, changes = recompute(container, account_id, support_ctx("ticket 90: wrong card"))
    change = changes["account_detail"]
    assert change.changed
    assert change.before[f"methods.{method_id}.last4"] == "0000"
    assert change.after[f"methods.{method_id}.last4"] == "4242"
    assert change.before["credits"] == {}
    assert detail_row(container, account_id) == {**good, "version": result.version}
    projection = container.projections["account_detail"]
    with container.connection() as conn:
        reset(conn, projection)
    catch_up(container.connection, projection, container.reader)
    assert detail_row(container, account_id) == {**good, "version": result.version}


def test_the_query_reads_what_the_commands_made(
    container: Container, deps: Deps, clock: FixedClock
) -> None:
    account_id = history(deps, clock)
    project(container)
    with container.connection() as conn:
        view = account_detail(conn, account_id, clock.now())
    assert view is not None
    assert view.collection_path == "charge_automatically"
    assert view.default_method is not None
    assert (view.default_method.brand, view.default_method.last4) == ("visa", "4242")
    [sub] = view.subscriptions
    assert (sub.plan_id, sub.status, sub.renewal_due) == (PLAN, "active", False)
    assert sub.period_end - sub.period_start == timedelta(days=31)
    [credit] = view.credits
    assert (credit.amount, credit.used, credit.remaining) == (500, 500, 0)
    assert (credit.granted_by, credit.reason) == ("support agent-7", "late delivery")
    [dispute] = view.disputes
    assert (dispute.dispute_id, dispute.amount, dispute.payment_amount) == ("dp_7", 900, 1500)
    assert (dispute.status, dispute.closed_at) == ("needs_response", None)
    assert dispute.invoice_number is not None
    assert view.bad_debt is None
    with container.connection() as conn:
        assert account_detail(conn, UUID(int=5), clock.now()) is None
