"""The invoice list's status filter (queries/invoices.py) on real PostgreSQL agrees with the
domain's display status (ledger.invoices.display_status) for every combination of the
columns it looks at, the due date's edge included; and with the filter, a page of an account
with many invoices still walks the keyset index (no sort of the account's invoices)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from bench.read_plans import explain, explain_generic, statement_of
from ledger.invoices import DisplayStatus
from queries.invoices import DateRange, InvoiceFilters, list_invoices, shown_status

KEY = b"test-cursor-key"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DUE = (None, NOW - timedelta(days=1), NOW, NOW + timedelta(days=1))
MARKED = (None, NOW - timedelta(days=30))
STATUSES = ("draft", "open", "paid", "uncollectible", "void")


def _row(account: UUID, n: int, status: str, due: datetime | None, marked: datetime | None
         ) -> tuple[Any, ...]:  # fmt: skip
    created = NOW - timedelta(days=60, minutes=n)
    detail = Jsonb({"lines": [], "credits_used": {}, "attempts": [], "timeline": []})
    return (account, f"inv-{n:05d}", f"N-{n:05d}", status, created, created, due, None, marked,
            None, "USD", 2000, 0, 2000, False, detail, n)  # fmt: skip


def _insert(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO invoices (account_id, invoice_id, number, status, created_at,"
            " finalized_at, due_at, paid_at, marked_uncollectible_at, voided_at, currency,"
            " total, credit_applied, amount_due, paid_out_of_band, detail, version)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    conn.commit()


@pytest.mark.parametrize("shown", list(DisplayStatus))
def test_the_status_filter_lists_exactly_the_invoices_shown_so(
    database_url: str, shown: DisplayStatus
) -> None:
    account = uuid4()
    combos = list(itertools.product(STATUSES, DUE, MARKED))
    rows = [_row(account, n, *combo) for n, combo in enumerate(combos)]
    with psycopg.connect(database_url) as conn:
        _insert(conn, rows)
        listed = list_invoices(conn, account, KEY, NOW, InvoiceFilters(status=shown), 100)
        everything = list_invoices(conn, account, KEY, NOW, InvoiceFilters(), 100)

    expected = {i.invoice_id for i in everything.items if i.display_status is shown}
    assert {i.invoice_id for i in listed.items} == expected
    assert all(shown_status(i.model_dump(), NOW) is shown for i in listed.items)


def test_a_filtered_page_of_a_large_account_walks_the_keyset_index(database_url: str) -> None:
    big, others = uuid4(), [uuid4() for _ in range(400)]
    rows = [_row(big, n, "paid", None, None) for n in range(2_000)]
    rows += [_row(a, 2_000 + n, "paid", None, None) for n, a in enumerate(others * 10)]
    issued = DateRange(start=NOW - timedelta(days=365))  # the console's filters
    filters = InvoiceFilters(status=DisplayStatus.PAID, issued=issued)
    with psycopg.connect(database_url) as conn:
        _insert(conn, rows)
        conn.execute("ANALYZE invoices")
        conn.commit()
        query, params = statement_of(conn, lambda c: list_invoices(c, big, KEY, NOW, filters, 20))
        plan = explain(conn, query, params)
        generic = explain_generic(conn, query, params)  # once the statement is prepared

    assert plan.uses_keyset_index, plan.text
    assert generic.uses_keyset_index, generic.text
