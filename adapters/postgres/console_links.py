"""The `console_links` table (migrations/0016_console_links.sql): the support console's
short-lived, single-use sign-in links. Only the SHA-256 of a link's token is stored."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from psycopg import Connection

Connect = Callable[[], AbstractContextManager[Connection[Any]]]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PostgresConsoleLinks:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def create(self, principal_id: str, created_by: str, ttl: timedelta) -> str:
        """A new link's token (shown once): it signs `principal_id` in once, within `ttl`."""
        token = secrets.token_urlsafe(32)
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO console_links (sha256, principal_id, created_by, expires_at)"
                " VALUES (%s, %s, %s, now() + %s)",
                (_digest(token), principal_id, created_by, ttl),
            )
        return token

    def use(self, token: str) -> str | None:
        """The principal a link signs in, marking it used; None for an unknown, used or
        expired link (one UPDATE: two browsers racing for one link, one wins)."""
        with self._connect() as conn:
            row = conn.execute(
                "UPDATE console_links SET used_at = now() WHERE sha256 = %s"
                " AND used_at IS NULL AND expires_at > now() RETURNING principal_id",
                (_digest(token),),
            ).fetchone()
        return str(row[0]) if row else None
