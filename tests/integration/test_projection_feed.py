"""The accounts projection fed straight from the event store (rebuilds, embedded mode)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import sql

from adapters.bootstrap import Container
from commands.accounts import close_account, open_account, update_profile
from commands.models import CloseAccount, UpdateProfile
from projections.accounts import AccountRow, AccountsProjection
from projections.base import fold_all
from projections.feed import catch_up, catch_up_together, reset
from projections.runtime import apply_batch
from queries.accounts import get_account, wait_for_version
from tests.fakes.builders import open_cmd, service_ctx


def write_history(container: Container, accounts: int = 20) -> list[UUID]:
    ids = []
    for i in range(accounts):
        opened = open_account(container.deps, open_cmd(f"Customer {i}"), service_ctx())
        ids.append(opened.account_id)
        if i % 3 == 0:
            cmd = UpdateProfile(account_id=opened.account_id, email=f"c{i}@example.com")
            update_profile(container.deps, cmd, service_ctx())
        if i % 5 == 0:
            closing = CloseAccount(account_id=opened.account_id)
            close_account(container.deps, closing, service_ctx())
    return ids


def table_rows(container: Container) -> dict[UUID, AccountRow]:
    with container.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT account_id FROM accounts")
        ids = [r[0] for r in cur.fetchall()]
        return AccountsProjection().load(cur, ids)


def expected_rows(container: Container) -> dict[UUID, Any]:
    return fold_all(AccountsProjection(), container.reader.read_after(0, 100_000))


def test_catch_up_builds_the_read_model_and_the_query_reads_it(container: Container) -> None:
    ids = write_history(container)
    assert catch_up(container.connection, AccountsProjection(), container.reader, 7) > 0
    assert table_rows(container) == expected_rows(container)
    with container.connection() as conn:
        view = get_account(conn, ids[0])
        assert view is not None
        assert (view.status, view.email, view.version) == ("closed", "c0@example.com", 3)
        assert wait_for_version(conn, ids[0], 3, timeout_s=0.1)
        assert not wait_for_version(conn, ids[0], 4, timeout_s=0.05)


def test_redelivered_batches_change_nothing(container: Container) -> None:
    write_history(container)
    envelopes = container.reader.read_after(0, 100_000)
    projection = AccountsProjection()
    with container.connection() as conn:
        first = apply_batch(conn, projection, envelopes)
        again = apply_batch(conn, projection, list(reversed(envelopes)))
        half = apply_batch(conn, projection, envelopes[: len(envelopes) // 2])
    assert (first.applied, again.applied, half.applied) == (len(envelopes), 0, 0)
    assert again.skipped == len(envelopes)
    rows = table_rows(container)
    assert rows == expected_rows(container)
    assert all(r.events_applied == r.version for r in rows.values())


def test_a_missing_predecessor_is_fetched_from_the_store(container: Container) -> None:
    [account_id] = write_history(container, accounts=1)  # opened, updated, closed
    last = container.reader.read_after(0, 10)[-1]
    with container.connection() as conn:
        outcome = apply_batch(conn, AccountsProjection(), [last], container.reader)
    assert outcome.backfilled == 2
    assert table_rows(container)[account_id] == expected_rows(container)[account_id]


def test_a_rebuild_after_corruption_restores_the_same_rows(container: Container) -> None:
    write_history(container)
    projection = AccountsProjection()
    catch_up(container.connection, projection, container.reader)
    with container.connection() as conn:
        conn.execute("UPDATE accounts SET name = 'corrupted', events_applied = 99")
        conn.commit()
        reset(conn, projection)
    catch_up(container.connection, projection, container.reader)
    assert table_rows(container) == expected_rows(container)


def test_projections_caught_up_together_equal_each_caught_up_alone(container: Container) -> None:
    """One read of each page for every projection, from different positions (`accounts` is
    ahead of the others): the same rows and tracking as each projection caught up alone."""
    write_history(container, 12)
    catch_up(container.connection, container.projections["accounts"], container.reader, 5)
    write_history(container, 9)
    projections = list(container.projections.values())
    assert catch_up_together(container.connection, projections, container.reader, 7) > 0
    together = {p.name: contents(container, p) for p in projections}
    for projection in projections:
        with container.connection() as conn:
            reset(conn, projection)
        catch_up(container.connection, projection, container.reader, 7)
    assert {p.name: contents(container, p) for p in projections} == together
    assert all(any(r.startswith("tracked") for r in rows) for rows in together.values())


def contents(container: Container, projection: Any) -> list[str]:
    """Every row of the projection's tables, its tracked versions and its feed position."""
    with container.connection() as conn:
        rows = [
            f"{table}: {row[0]}"
            for table in projection.tables
            for row in conn.execute(
                sql.SQL("SELECT to_jsonb(t)::text AS r FROM {} t ORDER BY r").format(
                    sql.Identifier(table)
                )
            ).fetchall()
        ]
        tracked = conn.execute(
            "SELECT stream_id::text, version FROM projection_streams WHERE projection = %s"
            " ORDER BY stream_id",
            (projection.name,),
        ).fetchall()
        position = conn.execute(
            "SELECT feed_position FROM projection_positions WHERE projection = %s",
            (projection.name,),
        ).fetchone()
    return [*rows, *(f"tracked: {t}" for t in tracked), f"position: {position}"]
