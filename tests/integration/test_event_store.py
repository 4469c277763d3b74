"""The event store on real PostgreSQL: schema by migrations, events, snapshots, concurrency."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import psycopg
import pytest

from adapters.bootstrap import Container, SchemaNotMigrated, build
from adapters.postgres.database import configured
from adapters.postgres.migrate import migrate, pending
from adapters.settings import Settings
from commands import accounts, base
from commands.application import SNAPSHOT_INTERVAL
from commands.models import CloseAccount, UpdateProfile
from ledger.account import Account, AccountStatus
from tests.fakes.builders import open_cmd, service_ctx


def test_migrations_are_applied_once(database_url: str) -> None:
    db = configured(database_url)
    assert migrate(db) == []
    assert pending(db) == []


def test_an_unmigrated_database_is_refused(pg_server: object, database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM _yoyo_migration")
    with pytest.raises(SchemaNotMigrated):
        build(Settings(database_url=database_url))


def test_events_persist_and_reload(container: Container) -> None:
    deps = container.deps
    opened = accounts.open_account(deps, open_cmd(), service_ctx())
    accounts.update_profile(
        deps,
        UpdateProfile(account_id=opened.account_id, country="IE", currency="EUR"),
        service_ctx(),
    )
    closed = accounts.close_account(deps, CloseAccount(account_id=opened.account_id), service_ctx())
    account = base.load_account(container.app, opened.account_id)
    assert (account.version, account.status) == (3, AccountStatus.CLOSED)
    assert account.profile.currency == "EUR"
    assert closed.position == container.reader.head()
    kinds = [e.event_type for e in container.reader.read_after(0, 10)]
    assert kinds == ["AccountOpened", "AccountProfileUpdated", "AccountClosed"]
    # each event's global position, as a repeated command answers it
    positions = [container.reader.position_of(opened.account_id, v) for v in (1, 3, 4)]
    assert positions == [opened.position, closed.position, None]


def test_long_streams_are_snapshotted_and_replay_to_the_same_state(container: Container) -> None:
    deps = container.deps
    opened = accounts.open_account(deps, open_cmd(), service_ctx())
    for i in range(SNAPSHOT_INTERVAL + 5):
        cmd = UpdateProfile(account_id=opened.account_id, name=f"Ada {i}")
        accounts.update_profile(deps, cmd, service_ctx())
    snapshots = list(container.app.snapshots.get(opened.account_id))  # type: ignore[union-attr]
    assert [s.originator_version for s in snapshots] == [SNAPSHOT_INTERVAL]
    from_snapshot = base.load_account(container.app, opened.account_id)
    from_events: Any = None
    for event in container.app.events.get(opened.account_id):
        from_events = event.mutate(from_events)  # type: ignore[attr-defined]
    assert isinstance(from_events, Account)
    assert from_snapshot.__dict__ == from_events.__dict__


def test_a_conflicting_write_is_rejected_by_the_store(container: Container) -> None:
    opened = accounts.open_account(container.deps, open_cmd(), service_ctx())
    first = base.load_account(container.app, opened.account_id)
    second = base.load_account(container.app, opened.account_id)
    meta = base.meta_of(container.deps, service_ctx())
    first.update_profile(first.profile.with_changes(name="First"), meta)
    second.update_profile(second.profile.with_changes(name="Second"), meta)
    container.app.save(first)
    from eventsourcing.persistence import IntegrityError

    with pytest.raises(IntegrityError):
        container.app.save(second)
    assert base.load_account(container.app, opened.account_id).profile.name == "First"


def test_idempotent_open_survives_a_new_process(container: Container, database_url: str) -> None:
    command_id = uuid4()
    first = accounts.open_account(container.deps, open_cmd(), service_ctx(command_id))
    other = build(Settings(database_url=database_url))
    try:
        again = accounts.open_account(other.deps, open_cmd(), service_ctx(command_id))
    finally:
        other.close()
    assert (again.account_id, again.replayed) == (first.account_id, True)
    assert container.reader.head() == 1
