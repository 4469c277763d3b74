"""Moments typed in the console: no offset is UTC, and the end of a range covers all of the
day, minute or second written (the pages show times to the second)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.http.console.moments import UnreadableMoment, moment, through


def test_a_moment_without_an_offset_is_utc_and_one_with_an_offset_is_kept() -> None:
    assert moment("2026-03-01T09:30") == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    paris = moment("2026-03-01T10:30:00+01:00")
    assert paris.utcoffset() == timedelta(hours=1)
    assert paris == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "last"),
    [
        ("2026-03-01", datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2026-03-01T09:30", datetime(2026, 3, 1, 9, 30, 59, 999999, tzinfo=UTC)),
        ("2026-03-01T09:30:15", datetime(2026, 3, 1, 9, 30, 15, 999999, tzinfo=UTC)),
        ("2026-03-01T09:30:15.250000", datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=UTC)),
        (
            "2026-03-01T09:30+02:00",
            datetime(2026, 3, 1, 9, 30, 59, 999999, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_the_end_of_a_range_covers_all_of_what_was_written(text: str, last: datetime) -> None:
    assert through(text) == last


@pytest.mark.parametrize("text", ["soon", "", "2026-13-01T00:00", "01/03/2026 09:30"])
def test_an_unreadable_moment_is_refused(text: str) -> None:
    with pytest.raises(UnreadableMoment):
        moment(text)
    with pytest.raises(UnreadableMoment):
        through(text)
