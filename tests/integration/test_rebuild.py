"""Projection rebuild through a shadow schema: compare, swap what differs, resume, pause."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Container
from commands.base import Deps
from ledger.envelope import EventEnvelope
from projections import bulk, rebuild
from projections.base import Projection, fold_all
from projections.feed import catch_up
from projections.rebuild import DifferenceKind, RebuildInProgress
from projections.runtime import apply_batch, projection_lock_key
from tests.fakes.billing import subscribe, usd_account


def live_rows(container: Container) -> dict[str, dict[UUID, Any]]:
    with container.connection() as conn, conn.cursor() as cur:
        rows = {}
        for name, p in container.projections.items():
            cur.execute(f"SELECT DISTINCT account_id FROM {p.tables[0]}")
            ids = [r[0] for r in cur.fetchall()]
            rows[name] = p.load(cur, ids)
        return rows


def reference(container: Container) -> dict[str, dict[UUID, Any]]:
    """What an uninterrupted rebuild must produce: the whole store folded in memory, then
    written and read back through each projection's own save and load."""
    envelopes = container.reader.read_after(0, 1_000_000)
    return {name: _round_trip(container, p, envelopes) for name, p in container.projections.items()}


def _round_trip(
    container: Container, projection: Projection[Any], envelopes: list[EventEnvelope]
) -> dict[UUID, Any]:
    states = {k: v for k, v in fold_all(projection, envelopes).items() if v is not None}
    with container.connection() as conn, conn.transaction() as tx, conn.cursor() as cur:
        # temporary tables come first on the search path: the projection's own writer and
        # reader go through them, and the rollback leaves nothing behind
        for table in projection.tables:
            cur.execute(f"CREATE TEMP TABLE {table} (LIKE public.{table} INCLUDING ALL)")
        projection.save(cur, states)
        loaded = projection.load(cur, list(states))
        tx.force_rollback = True
    return loaded


def rebuild_now(container: Container, name: str, fresh: bool = False) -> rebuild.RebuildReport:
    projection = container.projections[name]
    with container.connection() as conn, rebuild.exclusive_rebuild(conn, name):
        conn.commit()
        start = rebuild.prepare(conn, projection, container.reader.head(), fresh)
        rebuild.build(conn, projection, container.reader, batch_size=7)
        return rebuild.swap(conn, projection, container.reader, start)


def history(deps: Deps, accounts: int = 4) -> list[UUID]:
    ids = [usd_account(deps) for _ in range(accounts)]
    for account_id in ids:
        subscribe(deps, account_id)
    return ids


def project_live(container: Container) -> None:
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)


def schema_exists(container: Container, schema: str) -> bool:
    with container.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
        return bool(row and row[0])


def test_a_rebuild_replaces_exactly_the_damaged_accounts(container: Container, deps: Deps) -> None:
    damaged, dropped, *_ = history(deps)
    project_live(container)
    stale = uuid4()
    with container.connection() as conn:
        conn.execute("UPDATE invoices SET total = total + 1 WHERE account_id = %s", (damaged,))
        conn.execute("DELETE FROM account_health WHERE account_id = %s", (dropped,))
        conn.execute(
            "INSERT INTO account_health SELECT %s, currency, collection_path, provider_links,"
            " outstanding, uncollectible, oldest_unpaid_due_at, oldest_unpaid_finalized_at,"
            " dunning_anchor_at, failed_attempts, last_failed_attempt_at,"
            " last_successful_payment_at, attempt_in_flight_since, bad_debt_payment_in_flight,"
            " usable_default_method, active_subscriptions, closed, detail, version"
            " FROM account_health WHERE account_id = %s",
            (stale, damaged),
        )

    invoices = rebuild_now(container, "invoices")
    health = rebuild_now(container, "health")
    accounts = rebuild_now(container, "accounts")

    assert [(d.account_id, d.kind, d.tables) for d in invoices.differences] == [
        (damaged, DifferenceKind.DIFFERS, ("invoices",))
    ]
    change = invoices.changes[damaged]
    assert change.changed
    assert any(k.endswith(".total") for k in change.before)
    assert {(d.account_id, d.kind) for d in health.differences} == {
        (dropped, DifferenceKind.MISSING),
        (stale, DifferenceKind.STALE),
    }
    assert accounts.differences == []
    assert accounts.accounts_compared == 4
    assert live_rows(container) == reference(container)
    assert not schema_exists(container, "rebuild_invoices")
    assert rebuild_now(container, "invoices").differences == []


def test_an_interrupted_rebuild_resumes_where_its_shadow_stopped(
    container: Container, deps: Deps
) -> None:
    history(deps, accounts=6)
    projection = container.projections["invoices"]
    head = container.reader.head()

    class Interrupted(Exception):
        """Stands for the process dying mid-build."""

    def stop_after_two(_count: int, _position: int, calls: list[int] = []) -> None:  # noqa: B006
        calls.append(1)
        if len(calls) == 2:
            raise Interrupted

    with container.connection() as conn:
        assert rebuild.prepare(conn, projection, head, fresh=False) == 0
        with pytest.raises(Interrupted):
            rebuild.build(conn, projection, container.reader, batch_size=5, progress=stop_after_two)
    with container.connection() as conn:
        resumed_at = rebuild.prepare(conn, projection, head, fresh=False)
        assert 0 < resumed_at < head
        rebuild.build(conn, projection, container.reader, batch_size=5)
        report = rebuild.swap(conn, projection, container.reader, resumed_at)
    assert report.resumed_from == resumed_at
    assert report.position == head
    # the live model was never fed: every account shows up as missing, then is there
    assert {d.kind for d in report.differences} == {DifferenceKind.MISSING}
    assert live_rows(container)["invoices"] == reference(container)["invoices"]


def test_a_fresh_rebuild_discards_an_interrupted_shadow(container: Container, deps: Deps) -> None:
    history(deps, accounts=2)
    projection = container.projections["accounts"]
    with container.connection() as conn:
        rebuild.prepare(conn, projection, container.reader.head(), fresh=False)
        rebuild.build(conn, projection, container.reader)
        assert rebuild.prepare(conn, projection, container.reader.head(), fresh=True) == 0


def test_a_second_rebuild_of_the_same_projection_is_refused(container: Container) -> None:
    with container.connection() as first, rebuild.exclusive_rebuild(first, "accounts"):
        first.commit()
        with (
            container.connection() as second,
            pytest.raises(RebuildInProgress),
            rebuild.exclusive_rebuild(second, "accounts"),
        ):
            raise AssertionError("a second rebuild was let in")
    with container.connection() as again, rebuild.exclusive_rebuild(again, "accounts"):
        pass  # released


def test_events_written_during_the_build_reach_the_swapped_model(
    container: Container, deps: Deps
) -> None:
    history(deps, accounts=2)
    project_live(container)
    projection = container.projections["invoices"]
    with container.connection() as conn:
        start = rebuild.prepare(conn, projection, container.reader.head(), fresh=False)
        rebuild.build(conn, projection, container.reader)
        late = history(deps, accounts=1)[0]  # after the build, before the swap
        report = rebuild.swap(conn, projection, container.reader, start)
    assert report.position == container.reader.head()
    assert [d.account_id for d in report.differences] == [late]
    assert live_rows(container)["invoices"] == reference(container)["invoices"]
    # a consumer resuming after the swap skips what the rebuild applied
    envelopes = container.reader.read_after(0, 1000)
    with container.connection() as conn:
        outcome = apply_batch(conn, projection, envelopes, container.reader)
    assert outcome.applied == 0
    assert outcome.skipped == len(envelopes)


def test_the_swap_pauses_live_writers_until_it_commits(container: Container, deps: Deps) -> None:
    history(deps, accounts=1)
    projection = container.projections["accounts"]
    envelopes = container.reader.read_after(0, 1000)
    finished = threading.Event()

    def consumer_batch() -> None:
        with container.connection() as conn:
            apply_batch(conn, projection, envelopes, container.reader)
        finished.set()

    with container.connection() as swap_conn, swap_conn.transaction():
        swap_conn.execute("SELECT pg_advisory_xact_lock(%s)", (projection_lock_key("accounts"),))
        batch = threading.Thread(target=consumer_batch)
        batch.start()
        time.sleep(0.5)
        assert not finished.is_set()  # waiting on the swap
    batch.join(timeout=10)
    assert finished.is_set()


def test_a_fresh_shadow_built_in_one_pass_equals_the_batched_feed_row_for_row(
    container: Container, deps: Deps
) -> None:
    """projections/bulk.py keeps the states in memory and COPYs each page's rows; the live
    model was fed the batched way; the swap compares every column of every row."""
    history(deps, accounts=5)
    project_live(container)
    head = container.reader.head()
    for name, projection in container.projections.items():
        with container.connection() as conn, rebuild.exclusive_rebuild(conn, name):
            conn.commit()
            start = rebuild.prepare(conn, projection, head, fresh=True)
            with rebuild.on_schema(conn, rebuild.shadow_schema(name)):
                built = bulk.build(conn, projection, container.reader, page=3)
            report = rebuild.swap(conn, projection, container.reader, start)
        assert (built.finished, built.read) == (True, head), name
        assert (report.differences, report.accounts_compared) == ([], 5), name
    assert live_rows(container) == reference(container)


def test_a_one_pass_build_stops_where_the_batched_feed_must_park_and_it_carries_on(
    container: Container, deps: Deps
) -> None:
    history(deps, accounts=3)
    projection = container.projections["accounts"]
    head = container.reader.head()
    with container.connection() as conn:
        start = rebuild.prepare(conn, projection, head, fresh=True)
        conn.commit()
        with rebuild.on_schema(conn, rebuild.shadow_schema("accounts")):
            built = bulk.build(conn, projection, Unreadable(container.reader, after=4), page=2)
        assert (built.finished, built.read) == (False, 4)  # two pages committed, then it stops
        assert rebuild.build(conn, projection, container.reader, batch_size=2) == head - 4
        report = rebuild.swap(conn, projection, container.reader, start)
    assert report.position == head
    assert live_rows(container)["accounts"] == reference(container)["accounts"]


class Unreadable:
    """The store as a source whose events after `after` cannot be read."""

    def __init__(self, source: Any, after: int) -> None:
        self._source, self._after = source, after

    def read_after(self, position: int, limit: int) -> list[EventEnvelope]:
        if position >= self._after:
            raise ValueError("cannot decode")
        return list(self._source.read_after(position, limit))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


def test_the_pause_compares_only_what_differed_or_moved_since_the_first_pass(
    container: Container, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The swap compares every account while live writers run, then, paused, only those
    that differed then or whose tracked version moved since: here a damaged account, and
    one whose new event the shadow applies after the first pass while the live model has
    not had it yet."""
    damaged, moving, *_quiet = history(deps, accounts=5)
    project_live(container)
    with container.connection() as conn:
        conn.execute("UPDATE accounts SET name = 'damaged' WHERE account_id = %s", (damaged,))
    first_pass, compare = rebuild._first_pass, rebuild.compare
    compared_paused: list[list[UUID] | None] = []

    def first_pass_then_a_write(*args: Any) -> Any:
        found = first_pass(*args)
        subscribe(deps, moving)  # a new event after the first pass, not fed to live
        return found

    def spied(*args: Any) -> Any:
        compared_paused.append(None if len(args) < 5 else list(args[4]))
        return compare(*args)

    monkeypatch.setattr(rebuild, "_first_pass", first_pass_then_a_write)
    monkeypatch.setattr(rebuild, "compare", spied)
    report = rebuild_now(container, "accounts")
    assert compared_paused[-1] == sorted([damaged, moving])
    assert report.accounts_compared == 5
    assert {(d.account_id, d.kind) for d in report.differences} == {
        (damaged, DifferenceKind.DIFFERS),
        (moving, DifferenceKind.BEHIND),
    }
    assert live_rows(container)["accounts"] == reference(container)["accounts"]
