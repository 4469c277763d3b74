"""The per-account data keys on real PostgreSQL (migration 0025): one key per account,
created on first write; a destroyed key never comes back, for this process at once and for
another when its cache entry expires; the migration rolls back and applies again."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import psycopg
import pytest

from adapters.bootstrap import Container
from adapters.postgres.data_keys import KEY_BYTES, PostgresDataKeys
from adapters.postgres.migrate import MIGRATIONS_DIR


def test_a_key_is_made_once_per_account_and_read_back(container: Container) -> None:
    keys = PostgresDataKeys(container.connection)
    account_id = uuid4()
    assert keys.key_for_reading(account_id) is None  # none yet, and that is not cached
    key = keys.key_for_writing(account_id)
    assert key is not None
    assert len(key) == KEY_BYTES
    assert keys.key_for_writing(account_id) == key
    assert PostgresDataKeys(container.connection).key_for_reading(account_id) == key
    assert keys.key_for_writing(uuid4()) != key


def test_a_destroyed_key_is_gone_for_good(container: Container) -> None:
    here, elsewhere = (PostgresDataKeys(container.connection, ttl_s=ttl) for ttl in (30, 0))
    account_id = uuid4()
    assert here.key_for_writing(account_id) is not None
    assert elsewhere.key_for_reading(account_id) is not None
    here.destroy(account_id)
    assert here.key_for_reading(account_id) is None
    assert here.key_for_writing(account_id) is None  # never made again
    assert elsewhere.key_for_reading(account_id) is None  # its cache entry expired
    with container.connection() as conn:
        row = conn.execute(
            "SELECT data_key, destroyed_at IS NOT NULL FROM account_data_keys"
            " WHERE account_id = %s",
            (account_id,),
        ).fetchone()
    assert row == (None, True)


def test_an_account_that_never_had_a_key_can_be_forgotten_too(container: Container) -> None:
    keys = PostgresDataKeys(container.connection)
    account_id = uuid4()
    keys.destroy(account_id)
    assert PostgresDataKeys(container.connection).key_for_writing(account_id) is None


def test_a_key_row_is_either_a_key_or_a_tombstone(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute("INSERT INTO account_data_keys (account_id) VALUES (%s)", (uuid4(),))


def test_the_migration_rolls_back_and_applies_again(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute((MIGRATIONS_DIR / "0025_account_data_keys.rollback.sql").read_text())
        gone = conn.execute("SELECT to_regclass('account_data_keys')").fetchone()
        conn.execute((MIGRATIONS_DIR / "0025_account_data_keys.sql").read_text())
        back = conn.execute("SELECT to_regclass('event_rewrites')").fetchone()
    assert gone == (None,)
    assert back is not None
    assert back[0] is not None


class CountingConnections:
    """The container's connections, counted."""

    def __init__(self, container: Container) -> None:
        self._container, self.opened = container, 0

    def __call__(self) -> Any:
        self.opened += 1
        return self._container.connection()


def test_warming_many_accounts_keys_takes_one_connection_and_keeps_the_rules(
    container: Container,
) -> None:
    """Warm for writing creates the missing keys of many accounts at once (never one that
    was destroyed); warm for reading loads the existing ones; afterwards sealing and opening
    them needs no query. An account without a key stays uncached for reading."""
    writer = PostgresDataKeys(container.connection)
    old, destroyed = uuid4(), uuid4()
    old_key = writer.key_for_writing(old)
    writer.destroy(destroyed)
    new = [uuid4() for _ in range(50)]
    counted = CountingConnections(container)
    keys = PostgresDataKeys(counted)
    keys.warm([old, destroyed, *new], writing=True)
    assert counted.opened == 1
    assert keys.key_for_writing(old) == old_key
    assert keys.key_for_writing(destroyed) is None
    made = {a: keys.key_for_writing(a) for a in new}
    assert counted.opened == 1  # all from the warm-up
    assert len({k for k in made.values() if k is not None and len(k) == KEY_BYTES}) == 50

    reading = CountingConnections(container)
    reader = PostgresDataKeys(reading)
    never = uuid4()
    reader.warm([*new, never], writing=False)
    assert [reader.key_for_reading(a) for a in new] == [made[a] for a in new]
    assert reading.opened == 1
    assert reader.key_for_reading(never) is None
    assert reading.opened == 2  # "no key" is asked again, never cached
    with container.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM account_data_keys WHERE account_id = %s", (never,)
        ).fetchone()
    assert row == (0,)  # warming for reading creates nothing
