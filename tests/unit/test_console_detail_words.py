"""The account page's rules that no event states, pure: when a card expires (soon), how the
invoice filters' days become ranges, and how methods and intervals are worded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.http.console.account import InvalidInvoiceFilter, InvoiceQuery
from adapters.http.console.words import every
from ledger.invoices import DisplayStatus
from queries.account_detail import _expiry

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


def test_a_card_expires_at_the_end_of_its_month_and_expires_soon_a_month_before() -> None:
    assert _expiry("active", 2025, 12, NOW) == "expired"
    assert _expiry("active", 2026, 1, NOW) == "expires_soon"  # valid to 31 January
    assert _expiry("active", 2026, 2, NOW) == "expires_soon"
    assert _expiry("active", 2026, 3, NOW) is None
    assert _expiry("expired", 2030, 12, NOW) == "expired"  # recorded so, whatever its date
    assert _expiry("removed", 2025, 1, NOW) is None  # gone anyway
    assert _expiry("active", None, None, NOW) is None  # PayPal has no expiry


def test_filter_days_are_utc_days_with_both_ends_included() -> None:
    query = InvoiceQuery.of(
        {"status": "paid", "issued_from": "2026-01-01", "issued_to": "2026-01-31", "due_to": " "}
    )
    filters = query.filters()
    assert filters.status is DisplayStatus.PAID
    assert filters.issued.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert filters.issued.end == datetime(2026, 2, 1, tzinfo=UTC)  # exclusive: all of the 31st
    assert (filters.due.start, filters.due.end) == (None, None)
    assert query.kept == {"status": "paid", "issued_from": "2026-01-01", "issued_to": "2026-01-31"}
    assert InvoiceQuery.of({"status": "", "paid_from": ""}).filters() == InvoiceQuery().filters()
    one_day = InvoiceQuery.of({"paid_from": "2026-01-05", "paid_to": "2026-01-05"}).filters()
    assert (one_day.paid.start, one_day.paid.end) == (
        datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"due_from": "2026-02-01", "due_to": "2026-01-31"}, "Due: the first day is after"),
        ({"paid_to": "31/01/2026"}, "Paid: '31/01/2026' is not a day"),
        ({"status": "paid_twice"}, "there is no invoice status 'paid_twice'"),
    ],
)
def test_a_filter_that_cannot_be_used_is_refused_with_a_reason(
    params: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInvoiceFilter, match=message):
        InvoiceQuery.of(params).filters()


def test_billing_intervals_in_words() -> None:
    assert [every(m) for m in (1, 3, 6, 12)] == ["month", "3 months", "6 months", "year"]
