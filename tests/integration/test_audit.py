"""The tamper-evident audit chain, the history and as-of reads, on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.postgres.audit import verify
from commands import accounts
from commands.models import CloseAccount, UpdateProfile
from ledger.account import Account
from ledger.meta import Actor, ActorKind, EventMeta, Surface
from ledger.profile import BillingProfile
from queries.audit import HistoryFilter, event_types_present, recent_history
from tests.fakes.builders import open_cmd, service_ctx, support_ctx
from tests.fakes.clock import FixedClock
from tests.integration.test_http import KEYS, entry


def _account(container: Container, updates: int = 2) -> UUID:
    deps = container.deps
    account_id = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    for n in range(updates):
        cmd = UpdateProfile(account_id=account_id, name=f"Ada {n}")
        accounts.update_profile(deps, cmd, support_ctx(f"rename {n}"))
    return account_id


def _sql(database_url: str, sql: str, *params: object) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql, params)


def test_every_event_gets_a_linked_hash(container: Container) -> None:
    ids = [_account(container) for _ in range(3)]
    with container.connection() as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM ledger_events), (SELECT count(*) FROM event_hashes)"
        ).fetchone()
        report = verify(conn)
    assert counts == (9, 9)
    assert report.ok
    assert (report.streams, report.events, report.verified) == (3, 9, 9)
    with container.connection() as conn:
        assert verify(conn, ids[1]).verified == 3


def test_events_saved_together_chain_in_order(container: Container, clock: FixedClock) -> None:
    meta = EventMeta(Actor("svc", ActorKind.SERVICE), Surface.IAPI, uuid4(), clock.now())
    account = Account.open(uuid4(), BillingProfile("Ada", "a@example.com", "GB", "GBP"), meta)
    account.update_profile(BillingProfile("Ada B", "a@example.com", "GB", "GBP"), meta)
    account.update_profile(BillingProfile("Ada C", "a@example.com", "GB", "GBP"), meta)
    container.app.save(account)
    with container.connection() as conn:
        report = verify(conn, account.id)
    assert report.ok
    assert report.verified == 3


def test_a_duplicate_version_is_still_an_integrity_error(container: Container) -> None:
    from eventsourcing.persistence import IntegrityError

    account_id = _account(container, updates=0)
    stale: Account = container.app.repository.get(account_id)
    fresh: Account = container.app.repository.get(account_id)
    accounts.close_account(container.deps, CloseAccount(account_id=account_id), service_ctx())
    meta = EventMeta(Actor("svc", ActorKind.SERVICE), Surface.IAPI, uuid4(), fresh.opened_at)
    stale.update_profile(BillingProfile("Other", "a@example.com", "GB", "GBP"), meta)
    with pytest.raises(IntegrityError):
        container.app.save(stale)


def test_altering_an_event_breaks_the_chain_exactly_there(
    container: Container, database_url: str
) -> None:
    target, other = _account(container, updates=4), _account(container)
    _sql(
        database_url,
        "UPDATE ledger_events SET state = state || '\\x20'::bytea"
        " WHERE originator_id = %s AND originator_version = 3",
        target,
    )
    with container.connection() as conn:
        report = verify(conn)
    assert len(report.broken) == 1
    broken = report.broken[0]
    assert (broken.stream_id, broken.version, broken.problem) == (target, 3, "hash_mismatch")
    assert broken.expected != broken.recorded
    assert report.verified == 2 + 3  # versions 1-2 of the target, all of the other
    assert other not in {b.stream_id for b in report.broken}


@pytest.mark.parametrize(("version", "reported"), [(2, 2), (3, 3)])
def test_a_deleted_event_is_detected(
    container: Container, database_url: str, version: int, reported: int
) -> None:
    account_id = _account(container)  # versions 1-3; deleting 3 leaves its hash behind
    _sql(
        database_url,
        "DELETE FROM ledger_events WHERE originator_id = %s AND originator_version = %s",
        account_id,
        version,
    )
    with container.connection() as conn:
        broken = verify(conn).broken
    assert [(b.version, b.problem) for b in broken] == [(reported, "event_deleted")]


def test_a_missing_hash_row_is_detected(container: Container, database_url: str) -> None:
    account_id = _account(container)
    _sql(
        database_url,
        "DELETE FROM event_hashes WHERE originator_id = %s AND originator_version = 2",
        account_id,
    )
    with container.connection() as conn:
        broken = verify(conn, account_id).broken
    assert [(b.version, b.problem) for b in broken] == [(2, "missing_hash")]


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    keys = ApiKeys(
        [entry(KEYS["service"], ActorKind.SERVICE), entry(KEYS["support"], ActorKind.SUPPORT)]
    )
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def _get(client: TestClient, who: str, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params, headers={"Authorization": f"Bearer {KEYS[who]}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_history_paginates_filters_and_says_who_and_why(
    client: TestClient, container: Container, clock: FixedClock
) -> None:
    account_id = _account(container, updates=0)
    for n in range(4):
        clock.advance(days=1)
        cmd = UpdateProfile(account_id=account_id, name=f"Ada {n}")
        accounts.update_profile(container.deps, cmd, support_ctx(f"rename {n}"))
    path = f"/support/accounts/{account_id}/history"
    first = _get(client, "support", path, limit=2)
    assert [e["stream_version"] for e in first["entries"]] == [1, 2]
    second = _get(client, "support", path, limit=2, after_version=first["next_after_version"])
    assert [e["stream_version"] for e in second["entries"]] == [3, 4]
    updates = _get(client, "support", path, type="AccountProfileUpdated")["entries"]
    assert [e["stream_version"] for e in updates] == [2, 3, 4, 5]
    entry_ = updates[0]
    assert (entry_["actor_id"], entry_["actor_kind"], entry_["surface"]) == (
        "agent-7",
        "support",
        "ninjapanel",
    )
    assert entry_["reason"] == "rename 0"
    assert UUID(entry_["correlation_id"])
    assert len(entry_["hash"]) == 64
    window = _get(
        client,
        "service",
        f"/internal/accounts/{account_id}/history",
        **{"from": "2026-01-02T12:00:00+00:00", "to": "2026-01-03T12:00:00+00:00"},
    )
    assert [e["stream_version"] for e in window["entries"]] == [2, 3]
    assert window["next_after_version"] is None


def test_recent_history_pages_newest_first_and_filters_by_request(container: Container) -> None:
    account_id = _account(container, updates=4)
    one_request = support_ctx("rename twice in one request")
    for name in ("Ada Once", "Ada Twice"):
        cmd = UpdateProfile(account_id=account_id, name=name)
        accounts.update_profile(container.deps, cmd, one_request)
    decode = container.reader.decode_rows
    with container.connection() as conn:
        first = recent_history(conn, account_id, decode, limit=3)
        rest = recent_history(
            conn, account_id, decode, before_version=first.next_before_version, limit=3
        )
        where = HistoryFilter(correlation_id=one_request.correlation_id)
        request = recent_history(conn, account_id, decode, where=where, limit=2)
        last = recent_history(
            conn, account_id, decode, before_version=rest.next_before_version, limit=1
        )
        updates = recent_history(
            conn, account_id, decode, where=HistoryFilter(types={"AccountProfileUpdated"})
        )
        present = event_types_present(conn, account_id)
    assert [e.stream_version for e in first.entries] == [7, 6, 5]
    assert [e.stream_version for e in rest.entries] == [4, 3, 2]
    assert rest.next_before_version == 2  # one event (the opening) is left
    assert [e.stream_version for e in request.entries] == [7, 6]
    assert request.next_before_version is None  # exactly a page: no link to an empty one
    assert [e.stream_version for e in last.entries] == [1]
    assert last.next_before_version is None
    assert [e.stream_version for e in updates.entries] == [7, 6, 5, 4, 3, 2]
    assert present == ["AccountOpened", "AccountProfileUpdated"]


def test_history_of_an_unknown_account_is_404(client: TestClient) -> None:
    response = client.get(
        f"/support/accounts/{uuid4()}/history",
        headers={"Authorization": f"Bearer {KEYS['support']}"},
    )
    assert response.status_code == 404


def test_as_of_returns_the_state_before_a_later_change(
    client: TestClient, container: Container, clock: FixedClock
) -> None:
    account_id = _account(container, updates=0)
    clock.advance(days=10)
    accounts.close_account(
        container.deps, CloseAccount(account_id=account_id), support_ctx("customer left")
    )
    path = f"/support/accounts/{account_id}/as-of"
    before = _get(client, "support", path, at="2026-01-05T00:00:00")  # no offset: UTC
    after = _get(client, "support", path, at="2026-01-20T00:00:00Z")
    assert (before["status"], before["version"]) == ("open", 1)
    assert (after["status"], after["version"]) == ("closed", 2)
    assert before["profile"]["name"] == "Ada Lovelace"
    assert before["receivable"] == {"amount": 0, "currency": "GBP"}
    assert before["bad_debt"] is False


def test_the_cli_verifies_and_exits_1_on_a_broken_link(
    container: Container, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from adapters.cli.main import app

    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_LOG_JSON", "true")
    account_id = _account(container)
    intact = CliRunner().invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "audit chain intact" in intact.output
    _sql(
        database_url,
        "UPDATE ledger_events SET state = state || '\\x20'::bytea"
        " WHERE originator_id = %s AND originator_version = 2",
        account_id,
    )
    broken = CliRunner().invoke(app, ["audit", "verify", "--account", str(account_id)])
    assert broken.exit_code == 1
    assert f"stream {account_id} version 2: hash_mismatch" in broken.output


def test_the_migration_backfills_events_stored_before_it(
    container: Container, database_url: str
) -> None:
    from adapters.postgres.migrate import MIGRATIONS_DIR

    for n in range(3):
        _account(container, updates=n)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute((MIGRATIONS_DIR / "0005_audit_chain.rollback.sql").read_text())
        conn.execute((MIGRATIONS_DIR / "0005_audit_chain.sql").read_text())
    with container.connection() as conn:
        report = verify(conn)
    assert report.ok
    assert (report.streams, report.events, report.verified) == (3, 6, 6)
    next_id = _account(container, updates=1)  # and the trigger is back
    with container.connection() as conn:
        assert verify(conn, next_id).verified == 2
