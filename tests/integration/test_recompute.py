"""Recompute one account on real PostgreSQL: corrupted rows repaired to what a full rebuild
gives, the change reported, other accounts untouched, a concurrent recompute refused."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.main import app as cli
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.http.problems import status_of
from adapters.recompute import recompute
from commands import billing
from commands.accounts import close_account, open_account
from commands.base import Deps
from commands.models import CloseAccount, RecomputeAccount, Subscribe
from commands.recompute import recompute_account
from ledger.errors import SupportOnly
from ledger.meta import ActorKind
from projections.feed import catch_up, reset
from projections.recompute import (
    Change,
    RecomputeInProgress,
    StreamMovedOn,
    recompute_lock_key,
    recompute_stream,
    stored_rows,
)
from projections.runtime import apply_batch
from tests.fakes.billing import PLAN, usd_account
from tests.fakes.builders import customer_ctx, open_cmd, service_ctx, support_ctx
from tests.fakes.clock import FixedClock

SUPPORT, SERVICE = "sup-key-0123456789", "svc-key-0123456789"
Snapshot = dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def accounts(container: Container, deps: Deps, clock: FixedClock) -> tuple[UUID, UUID]:
    """Two accounts with invoices, both projections caught up."""
    own, other = usd_account(deps), usd_account(deps)
    for account_id in (own, other, own):
        clock.advance(minutes=1)
        cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=True)
        billing.subscribe(deps, cmd, customer_ctx())
    project(container)
    return own, other


def project(container: Container) -> None:
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)


def snapshot(container: Container, account_id: UUID | None = None) -> Snapshot:
    """Every row of the read models and their tracking (of one account, if given)."""
    queries = {
        "accounts": "SELECT * FROM accounts WHERE {} ORDER BY account_id",
        "invoices": "SELECT * FROM invoices WHERE {} ORDER BY account_id, invoice_id",
        "projection_streams": (
            "SELECT * FROM projection_streams WHERE {} ORDER BY projection, stream_id"
        ),
    }
    column = {"accounts": "account_id", "invoices": "account_id"}
    with container.connection() as conn:
        return {
            table: conn.execute(
                query.format(f"%(id)s::uuid IS NULL OR {column.get(table, 'stream_id')} = %(id)s"),
                {"id": account_id},
            ).fetchall()
            for table, query in queries.items()
        }


def rebuilt(container: Container) -> Snapshot:
    with container.connection() as conn:
        for projection in container.projections.values():
            reset(conn, projection)
    project(container)
    return snapshot(container)


def corrupt(container: Container, account_id: UUID) -> None:
    with container.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE accounts SET email = 'wrong@example.com', events_applied = 99"
            " WHERE account_id = %s",
            (account_id,),
        )
        conn.execute(
            "UPDATE invoices SET status = 'void', amount_due = 1 WHERE account_id = %s",
            (account_id,),
        )
        conn.execute(
            "UPDATE account_health SET outstanding = 31337 WHERE account_id = %s", (account_id,)
        )
        conn.execute(
            "UPDATE projection_streams SET version = 1 WHERE stream_id = %s", (account_id,)
        )


def test_a_corrupted_account_is_repaired_to_what_a_full_rebuild_gives(
    container: Container, accounts: tuple[UUID, UUID]
) -> None:
    own, other = accounts
    others_before = snapshot(container, other)
    corrupt(container, own)
    result, changes = recompute(container, own, support_ctx("ticket 77: wrong totals"))

    accounts_change = changes["accounts"]
    assert accounts_change.changed
    # The request event is part of the stream: it moves the version too.
    assert accounts_change.before == {
        "email": "wrong@example.com",
        "events_applied": 99,
        "version": result.version - 1,
    }
    assert accounts_change.after == {
        "email": "ada@example.com",
        "events_applied": result.version,
        "version": result.version,
    }
    invoices_change = changes["invoices"]
    assert invoices_change.changed
    statuses = {k: v for k, v in invoices_change.before.items() if k.endswith(".status")}
    assert statuses
    assert set(statuses.values()) == {"void"}
    assert {invoices_change.after[k] for k in statuses} <= {"open", "paid"}

    assert snapshot(container, other) == others_before
    repaired = snapshot(container)
    assert {r[2] for r in snapshot(container, own)["projection_streams"]} == {result.version}
    assert rebuilt(container) == repaired


def rows_of(container: Container, account_id: UUID) -> dict[str, dict[str, Any]]:
    with container.connection() as conn, conn.cursor() as cur:
        return {
            name: stored_rows(cur, projection.tables, account_id)
            for name, projection in container.projections.items()
        }


def test_the_answer_lists_every_corrupted_column_of_every_read_model_before_and_after(
    container: Container, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    good = rows_of(container, own)
    invoice_id = sorted(good["invoices"])[0]
    with container.connection() as conn, conn.transaction():
        conn.execute("UPDATE accounts SET name = 'Mallory' WHERE account_id = %s", (own,))
        conn.execute(
            "UPDATE invoices SET total = 7 WHERE account_id = %s AND invoice_id = %s",
            (own, invoice_id),
        )
        # columns derived from the fold, not part of `detail`
        conn.execute(
            "UPDATE account_health SET outstanding = 424242, failed_attempts = 9,"
            " collection_path = 'send_invoice' WHERE account_id = %s",
            (own,),
        )
    result, changes = recompute(container, own, support_ctx("ticket 78: health is wrong"))

    v = result.version  # the request event is in the stream: version columns move by one
    health = good["health"]
    assert changes["health"] == Change(
        changed=True,
        before={
            "outstanding": 424242,
            "failed_attempts": 9,
            "collection_path": "send_invoice",
            "version": v - 1,
        },
        after={
            "outstanding": health["outstanding"],
            "failed_attempts": health["failed_attempts"],
            "collection_path": health["collection_path"],
            "version": v,
        },
    )
    name = good["accounts"]["name"]
    assert changes["accounts"] == Change(
        changed=True,
        before={"name": "Mallory", "version": v - 1, "events_applied": v - 1},
        after={"name": name, "version": v, "events_applied": v},
    )
    total = good["invoices"][invoice_id]["total"]
    assert changes["invoices"] == Change(
        changed=True, before={f"{invoice_id}.total": 7}, after={f"{invoice_id}.total": total}
    )
    repaired = rows_of(container, own)
    assert repaired["invoices"] == good["invoices"]
    assert repaired["accounts"] == {**good["accounts"], "version": v, "events_applied": v}
    assert repaired["health"] == {**good["health"], "version": v}


def test_an_untouched_account_reports_no_change(
    container: Container, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    _, changes = recompute(container, own, support_ctx("customer doubts the list"))
    # The request event itself is part of the stream: it moves the version, nothing else.
    assert not changes["invoices"].changed
    assert set(changes["accounts"].after) == {"version", "events_applied"}
    _, again = recompute(container, own, support_ctx("once more"))
    assert set(again["accounts"].after) == {"version", "events_applied"}
    project(container)  # the feed then skips the request events: already applied
    assert rebuilt(container) == snapshot(container)


def test_a_redelivered_batch_after_a_recompute_changes_nothing(
    container: Container, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    corrupt(container, own)
    recompute(container, own, support_ctx("ticket 78"))
    after = snapshot(container)
    envelopes = container.reader.stream_between(own, 0, None)
    with container.connection() as conn:
        for projection in container.projections.values():
            assert apply_batch(conn, projection, envelopes).applied == 0
    assert snapshot(container) == after


def test_a_batch_for_the_account_waits_for_the_recompute_then_skips(
    container: Container, database_url: str, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    corrupt(container, own)  # tracking says version 1: an interleaved batch would reapply
    recompute_account(
        container.deps,
        RecomputeAccount(account_id=own),
        support_ctx("ticket 82"),
        list(container.projections),
    )
    envelopes = container.reader.stream_between(own, 0, None)
    projections = list(container.projections.values())
    outcomes: list[int] = []

    def deliver() -> None:
        with psycopg.connect(database_url) as conn:
            outcomes.extend(apply_batch(conn, p, envelopes).applied for p in projections)

    with psycopg.connect(database_url) as conn, conn.transaction():
        recompute_stream(conn, projections, own, envelopes)  # committed only at the end
        batch = threading.Thread(target=deliver)
        batch.start()
        batch.join(timeout=0.5)
        assert batch.is_alive()  # waiting on the stream's tracking rows
    batch.join(timeout=10)
    assert outcomes == [0] * len(projections)
    with container.connection() as conn:
        row = conn.execute(
            "SELECT version, events_applied FROM accounts WHERE account_id = %s", (own,)
        ).fetchone()
    assert row == (envelopes[-1].stream_version, envelopes[-1].stream_version)


def test_a_second_recompute_of_the_same_account_is_refused(
    container: Container, database_url: str, accounts: tuple[UUID, UUID]
) -> None:
    own, other = accounts
    corrupt(container, own)
    corrupted = snapshot(container, own)
    events_before = len(container.reader.stream_between(own, 0, None))
    with psycopg.connect(database_url) as holder, holder.transaction():
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (recompute_lock_key(own),))
        with pytest.raises(RecomputeInProgress) as refused:
            recompute(container, own, support_ctx("second click"))
        assert (refused.value.code, status_of(refused.value)) == ("recompute_in_progress", 409)
        assert snapshot(container, own) == corrupted  # rolled back, nothing half done
        assert len(container.reader.stream_between(own, 0, None)) == events_before  # no request
        _, changes = recompute(container, other, support_ctx("another account"))  # not blocked
        assert not changes["invoices"].changed
    _, changes = recompute(container, own, support_ctx("after the first finished"))
    assert changes["accounts"].changed


def test_the_request_is_an_event_with_the_support_actor_and_reason(
    container: Container, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    result, _ = recompute(container, own, support_ctx("ticket 79"))
    [event] = container.reader.stream_between(own, result.version - 1, None)
    assert event.event_type == "AccountRecomputeRequested"
    assert event.data == {"projections": list(container.projections)}
    assert (event.meta["actor"]["kind"], event.meta["actor"]["id"]) == ("support", "agent-7")
    assert event.meta["reason"] == "ticket 79"


def test_only_support_may_recompute_and_a_closed_account_can_be(container: Container) -> None:
    account_id = open_account(container.deps, open_cmd(), service_ctx()).account_id
    with pytest.raises(SupportOnly):
        recompute(container, account_id, service_ctx())
    assert container.reader.head() == 1
    close_account(container.deps, CloseAccount(account_id=account_id), service_ctx())
    result, changes = recompute(container, account_id, support_ctx("closed by mistake?"))
    assert result.version == 3
    after = changes["accounts"].after
    assert (after["status"], after["version"], after["events_applied"]) == ("closed", 3, 3)
    assert changes["accounts"].before == {}  # never projected before: rows created


@pytest.fixture
def client(container: Container, accounts: tuple[UUID, UUID]) -> Iterator[TestClient]:
    def entry(key: str, kind: ActorKind) -> ApiKeyEntry:
        return ApiKeyEntry(
            sha256=hash_key(key), id=f"{kind.value}-1", kind=kind, scopes=frozenset(SCOPES)
        )

    keys = ApiKeys([entry(SUPPORT, ActorKind.SUPPORT), entry(SERVICE, ActorKind.SERVICE)])
    with TestClient(create_app(container, keys)) as test_client:
        yield test_client


def test_support_recomputes_over_http(
    client: TestClient, container: Container, database_url: str, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    url = f"/support/accounts/{own}/recompute"
    support = {"Authorization": f"Bearer {SUPPORT}"}
    assert client.post(url, json={}, headers=support).status_code == 422  # reason required
    service = {"Authorization": f"Bearer {SERVICE}"}
    assert client.post(url, json={"reason": "x"}, headers=service).status_code == 403
    corrupt(container, own)
    done = client.post(url, json={"reason": "ticket 80"}, headers=support)
    assert done.status_code == 200, done.text
    body = done.json()
    assert UUID(body["account_id"]) == own
    assert body["projections"]["accounts"]["changed"]
    assert body["projections"]["accounts"]["before"]["email"] == "wrong@example.com"
    assert body["projections"]["accounts"]["after"]["email"] == "ada@example.com"
    assert body["projections"]["invoices"]["changed"]
    health = body["projections"]["health"]
    assert (health["before"]["outstanding"], health["after"]["outstanding"]) == (31337, 0)
    with psycopg.connect(database_url) as holder, holder.transaction():
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (recompute_lock_key(own),))
        busy = client.post(url, json={"reason": "double click"}, headers=support)
    assert (busy.status_code, busy.json()["code"]) == (409, "recompute_in_progress")
    missing = client.post(
        f"/support/accounts/{UUID(int=1)}/recompute", json={"reason": "x"}, headers=support
    )
    assert missing.status_code == 404


def test_the_cli_recomputes_and_prints_the_changes(
    container: Container, database_url: str, accounts: tuple[UUID, UUID], monkeypatch: Any
) -> None:
    own, _ = accounts
    corrupt(container, own)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_LOG_JSON", "true")
    runner = CliRunner()
    args = ["accounts", "recompute", str(own), "--reason", "ticket 81", "--actor", "ops-1"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert re.search(rf"recomputed {own} at version \d+", result.output)
    assert "accounts: changed" in result.output
    assert "email: wrong@example.com -> ada@example.com" in result.output
    assert "invoices: changed" in result.output
    again = runner.invoke(cli, [*args[:3], "--reason", "check"])
    assert "invoices: unchanged" in again.output
    refused = runner.invoke(cli, ["accounts", "recompute", str(own)])
    assert refused.exit_code != 0
    last = container.reader.stream_between(own, 0, None)[-1]
    assert json.loads(json.dumps(last.meta))["reason"] == "check"


def test_a_recompute_from_a_stale_read_refuses_rather_than_undo_applied_events(
    container: Container, accounts: tuple[UUID, UUID]
) -> None:
    own, _ = accounts
    whole = container.reader.stream_between(own, 0, None)
    before = snapshot(container, own)
    stale = whole[:-1]  # read before the last event, which a batch has applied since
    with container.connection() as conn, pytest.raises(StreamMovedOn):
        recompute_stream(conn, list(container.projections.values()), own, stale)
    assert snapshot(container, own) == before  # nothing undone, tracking not moved back


def test_the_recompute_reads_again_when_a_batch_got_ahead(
    container: Container, accounts: tuple[UUID, UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    own, _ = accounts
    real = container.reader.stream_between
    reads: list[int] = []

    def first_read_stale(stream_id: UUID, after: int, before: int | None) -> list[Any]:
        envelopes = real(stream_id, after, before)
        reads.append(len(envelopes))
        return envelopes[:-2] if len(reads) == 1 else envelopes

    monkeypatch.setattr(container.reader, "stream_between", first_read_stale)
    result, changes = recompute(container, own, support_ctx("ticket 12"))
    assert len(reads) == 2  # the stale first read was refused, the second one used
    assert changes["accounts"].changed
    monkeypatch.undo()
    repaired = snapshot(container)
    assert {r[2] for r in snapshot(container, own)["projection_streams"]} == {result.version}
    assert rebuilt(container) == repaired


def test_a_never_tracked_stream_gets_committed_placeholders_a_batch_can_wait_on(
    container: Container, deps: Deps, database_url: str
) -> None:
    fresh = usd_account(deps)  # no projection has seen it
    names = list(container.projections)
    with psycopg.connect(database_url) as holder, holder.transaction():
        # hold the recompute's lock so it stops right after committing its placeholders
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (recompute_lock_key(fresh),))
        stream = container.reader.stream_between(fresh, 0, None)
        with container.connection() as conn, pytest.raises(RecomputeInProgress):
            recompute_stream(conn, list(container.projections.values()), fresh, stream)
        with psycopg.connect(database_url) as other:  # another session sees them
            rows = other.execute(
                "SELECT projection, version FROM projection_streams WHERE stream_id = %s",
                (fresh,),
            ).fetchall()
    assert sorted(rows) == sorted((name, 0) for name in names)
