"""The projections' side of recomputing one account (commands/recompute.py): the account's
recompute lock, and refolding its rows from the stream as the event store holds it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import structlog
from psycopg import Connection

from adapters.bootstrap import Container
from commands import recompute as recompute_command
from commands.base import CommandResult
from commands.models import CommandContext, RecomputeAccount
from ledger.errors import DomainError, ErrorKind
from projections.recompute import (
    Change,
    RecomputeInProgress,
    StreamMovedOn,
    change_of,
    recompute_lock_key,
    recompute_stream,
    stored_rows,
)

REREADS = 3
log = structlog.get_logger("recompute")


class ProjectionRefolds:
    """commands.ports.Refolds over every projection of the container."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._projections = list(container.projections.values())

    def projection_names(self) -> list[str]:
        return [p.name for p in self._projections]

    @contextmanager
    def claim(self, account_id: UUID) -> Iterator[Callable[[], dict[str, Change]]]:
        """The refold answers each read model's change from its rows as they were when the
        recompute was claimed, before its request event was recorded: a live feed may apply
        that event before the refold reads the rows, and the answer must not depend on it."""
        with self._container.connection() as conn, _claimed(conn, account_id):
            seen = self._rows(conn, account_id)
            yield lambda: self._since(seen, conn, account_id, self._refold(conn, account_id))

    def _rows(self, conn: Connection[Any], account_id: UUID) -> dict[str, Any]:
        with conn.cursor() as cur:
            rows = {p.name: stored_rows(cur, p.tables, account_id) for p in self._projections}
        conn.commit()
        return rows

    def _since(
        self,
        seen: dict[str, Any],
        conn: Connection[Any],
        account_id: UUID,
        refolded: dict[str, Change],
    ) -> dict[str, Change]:
        now = self._rows(conn, account_id)
        return {name: change_of(seen[name], now[name]) for name in refolded}

    def _refold(self, conn: Connection[Any], account_id: UUID) -> dict[str, Change]:
        """Reads the stream and refolds it; reads again when a batch got ahead meanwhile."""
        for _ in range(REREADS - 1):
            with contextlib.suppress(StreamMovedOn):
                return self._once(conn, account_id)
        return self._once(conn, account_id)

    def _once(self, conn: Connection[Any], account_id: UUID) -> dict[str, Change]:
        envelopes = self._container.reader.stream_between(account_id, 0, None)
        return recompute_stream(conn, self._projections, account_id, envelopes)


def recompute(
    container: Container, account_id: UUID, ctx: CommandContext
) -> tuple[CommandResult, dict[str, Change]]:
    """Recomputes, and counts what it came to in `recompute_outcome_totals`: a refusal for
    bad input (no such account, no reason) is no recompute and is not counted."""
    cmd = RecomputeAccount(account_id=account_id)
    try:
        answer = recompute_command.recompute(container.deps, ProjectionRefolds(container), cmd, ctx)
    except RecomputeInProgress:
        _count_outcome(container, REFUSED)
        raise
    except DomainError as error:
        if error.kind is ErrorKind.CONFLICT:  # the stream kept moving, or the account is busy
            _count_outcome(container, FAILED)
        raise
    except Exception:
        _count_outcome(container, FAILED)
        raise
    _count_outcome(container, COMPLETED)
    return answer


COMPLETED, REFUSED, FAILED = "completed", "refused", "failed"


def _count_outcome(container: Container, outcome: str) -> None:
    """Best effort, after the fact: a database that cannot take the count (the usual reason
    a recompute failed) must not hide the recompute's own answer or error."""
    try:
        with container.connection() as conn:
            conn.execute(
                "INSERT INTO recompute_outcome_totals AS t (outcome, count) VALUES (%s, 1)"
                " ON CONFLICT (outcome) DO UPDATE SET count = t.count + 1",
                (outcome,),
            )
            conn.commit()
    except psycopg.Error:
        log.warning("recompute.outcome_not_counted", outcome=outcome, exc_info=True)


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
