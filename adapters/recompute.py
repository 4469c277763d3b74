"""Recompute one account: record the request, then refold its rows in every projection."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from psycopg import Connection

from adapters.bootstrap import Container
from commands.base import CommandResult
from commands.models import CommandContext, RecomputeAccount
from commands.recompute import recompute_account
from projections.base import Projection
from projections.recompute import (
    Change,
    RecomputeInProgress,
    StreamMovedOn,
    recompute_lock_key,
    recompute_stream,
)


def recompute(
    container: Container, account_id: UUID, ctx: CommandContext
) -> tuple[CommandResult, dict[str, Change]]:
    """Records `AccountRecomputeRequested` first (refused unless support, with a reason),
    then recomputes the whole stream, that event included."""
    projections = list(container.projections.values())
    names = [p.name for p in projections]
    cmd = RecomputeAccount(account_id=account_id)
    with container.connection() as conn, _claimed(conn, account_id):
        result = recompute_account(container.deps, cmd, ctx, names)
        changes = _refold(container, conn, projections, account_id)
    return result, changes


def _refold(
    container: Container,
    conn: Connection[Any],
    projections: list[Projection[Any]],
    account_id: UUID,
) -> dict[str, Change]:
    """Reads the stream and refolds it; reads again when a batch got ahead meanwhile."""

    def once() -> dict[str, Change]:
        envelopes = container.reader.stream_between(account_id, 0, None)
        return recompute_stream(conn, projections, account_id, envelopes)

    for _ in range(REREADS - 1):
        with contextlib.suppress(StreamMovedOn):
            return once()
    return once()


REREADS = 3


@contextmanager
def _claimed(conn: Connection[Any], account_id: UUID) -> Iterator[None]:
    """Claims the account's recompute lock for the session before anything is recorded, so
    a refused recompute leaves no request event behind (the recompute's own transaction
    lock is then granted to this same session)."""
    key = recompute_lock_key(account_id)
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    conn.commit()
    if not row or not row[0]:
        raise RecomputeInProgress()
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
        conn.commit()
