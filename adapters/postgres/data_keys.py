"""The `account_data_keys` table (migrations/0025): the DataKeys port over PostgreSQL.

Keys are cached in this process for `ttl_s` (a read of every sealed field would otherwise
cost a query), at most `cached` of them; a key destroyed by another process may still open
fields here until its cache entry expires. `destroy` clears this process's entry at once.
"No key yet" is never cached: another process may create the key a moment later."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from psycopg import Connection

Connect = Callable[[], AbstractContextManager[Connection[Any]]]
KEY_BYTES = 32  # AES-256
_DESTROYED = b""  # the cached tombstone

_CREATE = (
    "INSERT INTO account_data_keys (account_id, data_key) VALUES (%s, %s)"
    " ON CONFLICT (account_id) DO NOTHING"
)
_SELECT = "SELECT data_key FROM account_data_keys WHERE account_id = %s"
_CREATE_MANY = (
    "INSERT INTO account_data_keys (account_id, data_key)"
    " SELECT * FROM unnest(%s::uuid[], %s::bytea[]) ON CONFLICT (account_id) DO NOTHING"
)
_SELECT_MANY = "SELECT account_id, data_key FROM account_data_keys WHERE account_id = ANY(%s)"
_DESTROY = (
    "INSERT INTO account_data_keys (account_id, data_key, destroyed_at) VALUES (%s, NULL, now())"
    " ON CONFLICT (account_id) DO UPDATE SET data_key = NULL,"
    " destroyed_at = coalesce(account_data_keys.destroyed_at, now())"
)


class PostgresDataKeys:
    def __init__(self, connect: Connect, ttl_s: float = 30.0, cached: int = 10_000) -> None:
        self._connect = connect
        self._ttl_s = ttl_s
        self._most = cached  # entries kept (least recently used go first)
        self._cache: OrderedDict[UUID, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def key_for_writing(self, account_id: UUID) -> bytes | None:
        cached = self._cached(account_id)
        if cached is not None:
            return cached or None
        with self._connect() as conn:
            conn.execute(_CREATE, (account_id, secrets.token_bytes(KEY_BYTES)))
            row = conn.execute(_SELECT, (account_id,)).fetchone()
        return self._remember(account_id, row[0] if row else None)

    def key_for_reading(self, account_id: UUID) -> bytes | None:
        cached = self._cached(account_id)
        if cached is not None:
            return cached or None
        with self._connect() as conn:
            row = conn.execute(_SELECT, (account_id,)).fetchone()
        if row is None:
            return None  # no key yet: not cached
        return self._remember(account_id, row[0])

    def warm(self, account_ids: Collection[UUID], writing: bool) -> None:
        missing = [a for a in set(account_ids) if self._cached(a) is None]
        if not missing:
            return
        with self._connect() as conn:
            if writing:
                conn.execute(
                    _CREATE_MANY, (missing, [secrets.token_bytes(KEY_BYTES) for _ in missing])
                )
            rows = conn.execute(_SELECT_MANY, (missing,)).fetchall()
        for account_id, key in rows:
            self._remember(account_id, key)

    def destroy(self, account_id: UUID) -> None:
        with self._connect() as conn:
            conn.execute(_DESTROY, (account_id,))
        self._remember(account_id, None)

    def _cached(self, account_id: UUID) -> bytes | None:
        with self._lock:
            entry = self._cache.get(account_id)
            if entry is not None:
                self._cache.move_to_end(account_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def _remember(self, account_id: UUID, key: bytes | memoryview | None) -> bytes | None:
        value = _DESTROYED if key is None else bytes(key)
        with self._lock:
            self._cache[account_id] = (time.monotonic() + self._ttl_s, value)
            self._cache.move_to_end(account_id)
            while len(self._cache) > self._most:
                self._cache.popitem(last=False)
        return value or None
