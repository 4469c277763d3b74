"""Read filters refuse a time range that ends before it starts (queries/ranges.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from queries.audit import HistoryFilter
from queries.invoices import DateRange

LATER = datetime(2026, 3, 1, tzinfo=UTC)
EARLIER = LATER - timedelta(microseconds=1)


def test_an_invoice_date_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="after it ends"):
        DateRange(start=LATER, end=EARLIER)


def test_a_history_filter_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="after it ends"):
        HistoryFilter(since=LATER, until=EARLIER)


@pytest.mark.parametrize(
    ("start", "end"), [(EARLIER, LATER), (LATER, LATER), (None, EARLIER), (LATER, None)]
)
def test_ordered_equal_and_open_ranges_are_kept(
    start: datetime | None, end: datetime | None
) -> None:
    assert DateRange(start=start, end=end).start == start
    assert HistoryFilter(since=start, until=end).until == end
