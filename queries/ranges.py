"""Time ranges in read filters: a range that ends before it starts is a caller's mistake,
refused (a ValueError, so a pydantic model that checks it raises a ValidationError), never
answered as an empty page."""

from __future__ import annotations

from datetime import datetime


class InvertedRange(ValueError):
    """The range's start is after its end."""


def check_ordered(start: datetime | None, end: datetime | None) -> None:
    """Equal ends are allowed (an empty range for a half-open one, one instant for a closed
    one); only a start after the end is refused."""
    if start is not None and end is not None and start > end:
        raise InvertedRange(
            f"the range starts ({start.isoformat()}) after it ends ({end.isoformat()})"
        )
