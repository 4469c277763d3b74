"""A store written by main at 4dbbec6 (`tests/fixtures/store_main_4dbbec6.json`: every event
type of the account stream, the application's and explicit snapshots) still reads back, with
today's code, as that code read it: the same public envelopes, the same accounts replayed
from events, from each snapshot, and through the application.

A unit test on purpose: a stored row is its topic and its state bytes, which PostgreSQL keeps
verbatim (bytea, no cipher or compression configured); what code changes can break is the
reading (topic resolution, upcasting, transcodings, the aggregate's attributes in snapshot
state), and that is the application's mapper, the same over POPO as over PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from commands.application import LedgerApplication
from ledger.account import Account
from tests.fixtures.store_fixture import load, public_shape, public_today, stored_of, summary_of

FIXTURE = load()
ACCOUNTS = FIXTURE["accounts"]


def popo_app() -> LedgerApplication:
    return LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def decoded(app: LedgerApplication, rows: list[dict[str, Any]]) -> list[Any]:
    return [app.mapper.to_domain_event(stored_of(row)) for row in rows]


def replayed(events: list[Any], start: Account | None = None) -> Account:
    account = start
    for event in events:
        account = event.mutate(account)
    assert isinstance(account, Account)
    return account


def test_the_fixture_holds_every_event_type_and_snapshots() -> None:
    assert FIXTURE["written_by"] == "main at 4dbbec6"
    names = {p["event_type"] for a in ACCOUNTS for p in a["public"]}
    assert len(names) == 31
    assert sum(len(a["snapshots"]) for a in ACCOUNTS) == len(ACCOUNTS) + 2


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a["summary"]["profile"]["name"])
def test_every_stored_event_has_the_public_shape_main_gave_it(account: dict[str, Any]) -> None:
    events = decoded(popo_app(), account["events"])
    assert [public_shape(e) for e in events] == [public_today(p) for p in account["public"]]


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a["summary"]["profile"]["name"])
def test_an_account_replayed_from_its_events_is_the_account_main_read(
    account: dict[str, Any],
) -> None:
    events = decoded(popo_app(), account["events"])
    assert summary_of(replayed(events)) == account["summary"]
    for version, summary in account["summary_at"].items():
        assert summary_of(replayed(events[: int(version)])) == summary


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a["summary"]["profile"]["name"])
def test_each_snapshot_and_the_events_after_it_give_the_same_account(
    account: dict[str, Any],
) -> None:
    app = popo_app()
    events = decoded(app, account["events"])
    for snapshot in decoded(app, account["snapshots"]):
        start = snapshot.mutate(None)
        assert summary_of(start) == account["summary_at"][str(snapshot.originator_version)]
        later = events[snapshot.originator_version :]
        assert summary_of(replayed(later, start)) == account["summary"]


def test_the_application_loads_the_stored_accounts_and_goes_on_writing() -> None:
    app = popo_app()
    for account in ACCOUNTS:
        app.recorder.insert_events([stored_of(row) for row in account["events"]])
        assert app.snapshots is not None
        app.snapshots.recorder.insert_events([stored_of(row) for row in account["snapshots"]])
    for account in ACCOUNTS:
        loaded: Account = app.repository.get(UUID(account["id"]))
        assert summary_of(loaded) == account["summary"]
        for version, summary in account["summary_at"].items():
            assert summary_of(app.repository.get(loaded.id, version=int(version))) == summary


def test_new_events_are_stored_under_the_topics_main_stored_them_under() -> None:
    app = popo_app()
    topics = {
        p["event_type"]: row["topic"]
        for a in ACCOUNTS
        for p, row in zip(a["public"], a["events"], strict=True)
    }
    for account in ACCOUNTS:
        for event in decoded(app, account["events"]):
            assert get_topic(type(event)) == topics[public_shape(event)["event_type"]]
