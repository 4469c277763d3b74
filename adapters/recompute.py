"""Recompute one account: record the request, then refold its rows in every projection."""

from __future__ import annotations

from uuid import UUID

from adapters.bootstrap import Container
from commands.base import CommandResult
from commands.models import CommandContext
from commands.recompute import RecomputeAccount, recompute_account
from projections.recompute import Change, recompute_stream


def recompute(
    container: Container, account_id: UUID, ctx: CommandContext
) -> tuple[CommandResult, dict[str, Change]]:
    """Records `AccountRecomputeRequested` first (refused unless support, with a reason),
    then recomputes the whole stream, that event included."""
    projections = list(container.projections.values())
    names = [p.name for p in projections]
    cmd = RecomputeAccount(account_id=account_id)
    result = recompute_account(container.deps, cmd, ctx, names)
    envelopes = container.reader.stream_between(account_id, 0, None)
    with container.connection() as conn:
        changes = recompute_stream(conn, projections, account_id, envelopes)
    return result, changes
