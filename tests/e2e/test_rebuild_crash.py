"""A SIGKILL in the middle of `ledger projections rebuild all`: the rerun resumes, the end
state equals an uninterrupted rebuild, and readers of the live model saw, throughout, only
the model before the rebuild or the model after it: never an empty or partial one."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from adapters.bootstrap import Container, build
from adapters.settings import Settings
from projections.feed import catch_up
from tests.e2e.conftest import LedgerEnv, ledger_program
from tests.fakes.billing import subscribe, usd_account
from tests.fakes.gateway import FakeGateway
from tests.integration.test_rebuild import live_rows, reference

ACCOUNTS = 300
TABLES = ("accounts", "invoices", "account_health")
KILL_AT = 0.3  # of the store's head, in the invoices rebuild (the second of three)


@pytest.fixture
def container(ledger_env: LedgerEnv) -> Iterator[Container]:
    built = build(Settings(database_url=ledger_env.database_url, kafka_bootstrap=None))
    yield built
    built.close()


def table_sums(conn: psycopg.Connection[Any]) -> tuple[str | None, ...]:
    """Every read-model table's whole content as one checksum each, in one snapshot."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return tuple(
            conn.execute(
                f"SELECT md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM {table} t"
            ).fetchone()[0]  # type: ignore[index]
            for table in TABLES
        )


class Reader(threading.Thread):
    """Reads the live model over and over while the rebuild runs; keeps what it saw."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen: list[tuple[str | None, ...]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url) as conn:
            while not self.stop.is_set():
                self.seen.append(table_sums(conn))
                time.sleep(0.005)


def write_history(container: Container) -> None:
    deps = dataclasses.replace(container.deps, gateway=FakeGateway())
    for _ in range(ACCOUNTS):
        subscribe(deps, usd_account(deps))


def damage_live_model(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "UPDATE invoices SET amount_due = amount_due + 1"
        " WHERE account_id IN (SELECT account_id FROM invoices ORDER BY account_id LIMIT 3)"
    )
    conn.execute(
        "DELETE FROM account_health WHERE account_id ="
        " (SELECT account_id FROM account_health ORDER BY account_id LIMIT 1)"
    )
    conn.execute(
        "UPDATE accounts SET email = 'wrong@example.com' WHERE account_id ="
        " (SELECT account_id FROM accounts ORDER BY account_id DESC LIMIT 1)"
    )
    conn.commit()


def rebuild(env: LedgerEnv) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(ledger_program()), "projections", "rebuild", "all", "--batch-size", "5"],
        env={**env.process_env(), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def shadow_position(conn: psycopg.Connection[Any], projection: str) -> int:
    with conn.transaction():
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f"rebuild_{projection}.projection_positions",)
        ).fetchone()
        if not row or not row[0]:
            return 0
        found = conn.execute(
            f"SELECT feed_position FROM rebuild_{projection}.projection_positions"
        ).fetchone()
    return int(found[0]) if found else 0


def kill_mid_rebuild(env: LedgerEnv, conn: psycopg.Connection[Any], head: int) -> int:
    process = rebuild(env)
    deadline = time.monotonic() + 120
    while (position := shadow_position(conn, "invoices")) < head * KILL_AT:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"finished before the kill at {position}/{head}\n{output}")
        assert time.monotonic() < deadline, "the rebuild never reached the invoices"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    return position


@pytest.mark.e2e
def test_a_killed_rebuild_resumes_and_readers_never_see_a_partial_model(
    ledger_env: LedgerEnv, container: Container
) -> None:
    write_history(container)
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    head = container.reader.head()
    with psycopg.connect(ledger_env.database_url) as conn:
        damage_live_model(conn)
        before = table_sums(conn)
        reader = Reader(ledger_env.database_url)
        reader.start()
        killed_at = kill_mid_rebuild(ledger_env, conn, head)
        phases: dict[str, str] = dict(
            conn.execute("SELECT projection, phase FROM projection_rebuilds").fetchall()
        )
        assert phases == {"accounts": "swapped", "invoices": "building"}
        conn.commit()

        rerun = rebuild(ledger_env)
        output = rerun.communicate(timeout=300)[0].decode()
        assert rerun.returncode == 0, output
        reader.stop.set()
        reader.join(timeout=30)
        after = table_sums(conn)

    assert "invoices: resuming an interrupted rebuild at" in output
    assert 0 < killed_at < head
    assert live_rows(container) == reference(container)
    # the accounts swap happened before the kill, the other two after the rerun
    assert before[0] != after[0]
    assert before[1] != after[1]
    assert before[2] != after[2]
    allowed = {
        before,
        (after[0], before[1], before[2]),
        (after[0], after[1], before[2]),
        after,
    }
    assert set(reader.seen) <= allowed, "a reader saw a partial or empty model"
    assert len(reader.seen) > 10
    assert_tracking_at_heads(ledger_env.database_url)
    again = rebuild(ledger_env)
    replaced = again.communicate(timeout=300)[0].decode().count("; 0 replaced in the live model")
    assert replaced == len(container.projections)


def assert_tracking_at_heads(url: str) -> None:
    with psycopg.connect(url) as conn:
        behind = conn.execute(
            "SELECT count(*) FROM projection_streams p JOIN"
            " (SELECT originator_id, max(originator_version) AS head FROM ledger_events"
            "  GROUP BY originator_id) e ON e.originator_id = p.stream_id"
            " WHERE p.version <> e.head"
        ).fetchone()
        schemas = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'rebuild_%'"
        ).fetchone()
    assert behind == (0,)
    assert schemas == (0,)
