"""Every concrete account event says how it changes the account: the base's `apply_to`
guard (NotImplementedError) can never be reached by a recorded event."""

from __future__ import annotations

from ledger import events as ev

ABSTRACT: set[type[ev.AccountEvent]] = {ev.AccountEvent, ev.MoneyMoved, ev._MethodStateChanged}


def _subclasses(cls: type[ev.AccountEvent]) -> set[type[ev.AccountEvent]]:
    found: set[type[ev.AccountEvent]] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_concrete_event_overrides_apply_to() -> None:
    concrete = _subclasses(ev.AccountEvent) - ABSTRACT
    assert len(concrete) >= 20
    missing = [c.__name__ for c in concrete if c.apply_to is ev.AccountEvent.apply_to]
    assert missing == []
