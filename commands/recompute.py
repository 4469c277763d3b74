"""Recompute one account: record who asked and why (the adapter then rebuilds its rows)."""

from __future__ import annotations

from commands.base import CommandResult, Deps, load_act_save, meta_of
from commands.models import CommandContext, RecomputeAccount


def recompute_account(
    deps: Deps, cmd: RecomputeAccount, ctx: CommandContext, projections: list[str]
) -> CommandResult:
    """Records `AccountRecomputeRequested` (support only, reason required) and returns; the
    caller then runs `projections.recompute.recompute_stream` over the whole stream."""
    return load_act_save(
        deps,
        cmd.account_id,
        ctx,
        lambda account: account.request_recompute(projections, meta_of(deps, ctx)),
    )
