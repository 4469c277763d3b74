"""Moments as an agent types them in the console: a datetime-local value has no offset and
is read as UTC (the pages say so); one with an offset is taken as written. The console
shows times to the second, so a moment typed to the minute or second stands for all of it
when it ends a range: 'until 09:30' keeps an event at 09:30:40."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_CLOCK = re.compile(r"[T ]\d{2}:\d{2}(?P<seconds>:\d{2})?(?P<fraction>\.\d+)?")
_TICK = timedelta(microseconds=1)


class UnreadableMoment(ValueError):
    """Not an ISO 8601 date and time."""


def moment(text: str) -> datetime:
    try:
        read = datetime.fromisoformat(text)
    except ValueError:
        raise UnreadableMoment(text) from None
    return read.replace(tzinfo=UTC) if read.tzinfo is None else read


def through(text: str) -> datetime:
    """The last instant the written moment covers: a day, a minute or a second, or exactly
    the instant when it is written with a fraction of a second."""
    start = moment(text)
    clock = _CLOCK.search(text)
    if clock is None:
        return start + timedelta(days=1) - _TICK
    if clock["fraction"]:
        return start
    return start + (timedelta(seconds=1) if clock["seconds"] else timedelta(minutes=1)) - _TICK
