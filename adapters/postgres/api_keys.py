"""The `api_keys` table (migrations/0012_api_keys.sql): the API's KeyDirectory and what
`ledger keys` writes. Only SHA-256 hashes are stored."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, LiteralString
from uuid import UUID

from psycopg import Connection
from psycopg.rows import dict_row

from adapters.http.auth import Principal, StoredKey, hash_key
from ledger.meta import ActorKind

Connect = Callable[[], AbstractContextManager[Connection[Any]]]
_RETURNING: LiteralString = (
    " RETURNING key_id, sha256, principal_id AS id, kind, scopes, account_id,"
    " created_at, expires_at, revoked_at"
)
_SELECT: LiteralString = (
    "SELECT key_id, sha256, principal_id AS id, kind, scopes, account_id,"
    " created_at, expires_at, revoked_at FROM api_keys"
)
_INSERT: LiteralString = (
    "INSERT INTO api_keys (key_id, sha256, principal_id, kind, scopes, account_id, expires_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)" + _RETURNING
)
_REVOKE: LiteralString = (
    "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = %s" + _RETURNING
)


def key_id_of(sha256: str) -> str:
    """A key's public id: a prefix of its hash (it tells nothing of the key itself)."""
    return f"key_{sha256[:12]}"


class PostgresKeys:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def find(self, sha256: str) -> StoredKey | None:
        rows = self._run(_SELECT + " WHERE sha256 = %s", (sha256,))
        return rows[0] if rows else None

    def create(
        self,
        key: str,
        principal_id: str,
        kind: ActorKind,
        scopes: Iterable[str],
        account_id: UUID | None,
        expires_at: datetime | None,
    ) -> StoredKey:
        digest = hash_key(key)
        row = (key_id_of(digest), digest, principal_id, kind.value, sorted(scopes), account_id)
        return self._run(_INSERT, (*row, expires_at))[0]

    def active_principal(self, principal_id: str) -> Principal | None:
        rows = self._run(
            _SELECT + " WHERE principal_id = %s AND revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC LIMIT 1",
            (principal_id,),
        )
        return rows[0].principal() if rows else None

    def all(self) -> list[StoredKey]:
        return self._run(_SELECT + " ORDER BY created_at, key_id", ())

    def revoke(self, key_id: str) -> StoredKey | None:
        """Revokes the key now (a key revoked before keeps its first revocation time);
        None when there is no such key."""
        rows = self._run(_REVOKE, (key_id,))
        return rows[0] if rows else None

    def _run(self, query: LiteralString, params: tuple[Any, ...]) -> list[StoredKey]:
        with self._connect() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return [StoredKey.model_validate(row) for row in cur.fetchall()]
