"""Public event names and stored topics are a contract, not a consequence of where a class
lives: every event class of the account has exactly one registered public name (with its
schema version) and its own pinned topic, and moving or renaming a class changes neither."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.utils import construct_topic, resolve_topic

from commands.application import LedgerApplication
from ledger.account import Account
from ledger.account.registry import (
    PUBLIC_EVENTS,
    UnregisteredEvent,
    event_class_named,
    public_event,
    public_name,
)
from ledger.account.state import AccountEvent
from ledger.envelope import envelope_of, event_type_of
from ledger.profile import BillingProfile
from tests.unit.given import meta

ABSTRACT = {"AccountEvent", "MoneyMoved", "_MethodStateChanged"}
EVENTS_DOC = Path(__file__).parents[2] / "docs" / "events.md"


def _subclasses(cls: type[Any]) -> set[type[Any]]:
    found: set[type[Any]] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def recordable() -> set[type[Any]]:
    """Every event class the account can record: its opening and every concrete event."""
    concrete = {c for c in _subclasses(AccountEvent) if c.__name__ not in ABSTRACT}
    return concrete | {Account.Opened}


def test_every_event_class_has_exactly_one_public_name_and_version() -> None:
    registered = [e.event_class for e in PUBLIC_EVENTS]
    assert len(registered) == len(set(registered))
    assert set(registered) == recordable()
    names = [e.name for e in PUBLIC_EVENTS]
    assert len(names) == len(set(names)) == 32
    for entry in PUBLIC_EVENTS:
        assert entry.version == getattr(entry.event_class, "class_version", 1), entry.name
        assert event_class_named(entry.name) is entry.event_class


def own_topic(cls: type[Any]) -> str | None:
    """The topic written on the class itself, never one inherited from another event (the
    aggregate redefines its nested `Opened` as a subclass of the same name: that counts)."""
    same = [c for c in cls.__mro__ if c.__name__ == cls.__name__]
    return next((c.__dict__["TOPIC"] for c in same if "TOPIC" in c.__dict__), None)


def test_every_event_class_pins_its_own_registered_topic() -> None:
    topics = [own_topic(e.event_class) for e in PUBLIC_EVENTS]
    assert None not in topics
    assert len(set(topics)) == len(topics)
    for entry in PUBLIC_EVENTS:
        assert resolve_topic(entry.event_class.TOPIC) is entry.event_class
    assert resolve_topic("ledger.account:Account") is Account
    assert {c for c in _subclasses(AccountEvent) if "TOPIC" in c.__dict__} == recordable() - {
        Account.Opened
    }


@contextmanager
def moved(classes: tuple[type[Any], ...]) -> Iterator[None]:
    """The classes as if moved to another module and renamed, for the block's duration."""
    where = [(cls.__module__, cls.__qualname__) for cls in classes]
    try:
        for cls in classes:
            cls.__module__, cls.__qualname__ = "ledger.elsewhere", f"Renamed{cls.__name__}"
        yield
    finally:
        for back, (module, qualname) in zip(classes, where, strict=True):
            back.__module__, back.__qualname__ = module, qualname


def test_moving_or_renaming_a_class_changes_neither_its_name_nor_its_topic() -> None:
    account = Account.open(uuid4(), BillingProfile("Ada", "ada@example.com", "GB", "GBP"), meta())
    account.close(meta())
    opened, closed = account.collect_events()
    before = [(event_type_of(e), construct_topic(type(e))) for e in (opened, closed)]
    with moved((type(opened), type(closed), Account)):
        after = [(event_type_of(e), construct_topic(type(e))) for e in (opened, closed)]
        account_topic = construct_topic(Account)
    assert (
        after
        == before
        == [
            ("AccountOpened", "ledger.account:Account.Opened"),
            ("AccountClosed", "ledger.account:Account.Closed"),
        ]
    )
    assert envelope_of(closed, 2).event_type == "AccountClosed"
    assert account_topic == "ledger.account:Account"


def test_events_stored_before_a_move_load_after_it_and_the_other_way_round() -> None:
    app = LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    account = Account.open(uuid4(), BillingProfile("Ada", "ada@example.com", "GB", "GBP"), meta())
    account.update_profile(BillingProfile("Ada L", "ada@example.com", "GB", "GBP", None), meta())
    events = account.collect_events()
    stored_before = [app.mapper.to_stored_event(e) for e in events]
    with moved((*{type(e) for e in events}, Account)):
        stored_moved = [app.mapper.to_stored_event(e) for e in events]
        loaded_moved = [app.mapper.to_domain_event(s) for s in stored_before]
        names_moved = [envelope_of(e, 1).event_type for e in loaded_moved]
    loaded_back = [app.mapper.to_domain_event(s) for s in stored_moved]
    topics = [s.topic for s in stored_before]
    assert [s.topic for s in stored_moved] == topics
    assert topics == ["ledger.account:Account.Opened", "ledger.account:Account.ProfileUpdated"]
    assert names_moved == [envelope_of(e, 1).event_type for e in loaded_back]
    assert names_moved == ["AccountOpened", "AccountProfileUpdated"]
    assert [type(e) for e in loaded_moved] == [type(e) for e in loaded_back]
    assert [envelope_of(e, 1).data for e in loaded_back] == [envelope_of(e, 1).data for e in events]


def test_an_event_class_without_a_public_name_is_refused() -> None:
    class Unnamed:  # not an AccountEvent: a subclass would stay among its subclasses
        pass

    with pytest.raises(UnregisteredEvent):
        public_name(Unnamed)
    with pytest.raises(UnregisteredEvent):
        event_class_named("Unnamed")


def test_the_catalogue_in_docs_lists_the_registered_names_and_versions() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (\d+) \|", EVENTS_DOC.read_text(), flags=re.MULTILINE)
    assert {(name, int(v)) for name, v in rows} == {(e.name, e.version) for e in PUBLIC_EVENTS}
    assert all(public_event(event_class_named(name)).name == name for name, _ in rows)


def test_the_account_package_and_the_events_module_import_each_other_in_no_circle() -> None:
    # A fresh interpreter: importing the account package must not need ledger.events.
    code = (
        "import sys, ledger.account; "
        "assert 'ledger.events' not in sys.modules; "
        "import ledger.events; from ledger.account import registry"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("entry", PUBLIC_EVENTS, ids=lambda e: e.name)
def test_a_stored_topic_resolves_first_thing_in_a_fresh_interpreter(entry: Any) -> None:
    # Before anything of ours is imported: the topic alone must lead to the class.
    code = (
        "from eventsourcing.utils import resolve_topic; "
        f"cls = resolve_topic({entry.event_class.TOPIC!r}); "
        "from ledger.account.registry import public_name; "
        f"assert public_name(cls) == {entry.name!r}, cls"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
