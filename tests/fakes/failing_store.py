"""A store that fails the saves carrying a given kind of event, a number of times: a crash
(or a rival's save) at one particular save of a command, for tests of what a retry does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands.application import LedgerApplication
from ledger.account import Account


def fail_saves_of(
    app: LedgerApplication, event_type: type[Any], failure: Callable[[], Exception], times: int
) -> None:
    """`app.save` raises `failure()` for the next `times` saves of an `event_type` (pending
    in an account given, or given itself, as group commit does; nothing of those saves is
    stored), then saves normally."""
    real = app.save
    left = [times]

    def save(*aggregates: Any, **kwargs: Any) -> Any:
        carries = any(isinstance(a, event_type) for a in aggregates) or any(
            isinstance(e, event_type)
            for a in aggregates
            if isinstance(a, Account)
            for e in a.pending_events
        )
        if carries and left[0] > 0:
            left[0] -= 1
            raise failure()
        return real(*aggregates, **kwargs)

    app.save = save  # type: ignore[method-assign]
