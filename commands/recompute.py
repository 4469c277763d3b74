"""Recompute one account: record who asked and why, then refold its rows in every
projection from the whole stream, that request included."""

from __future__ import annotations

from typing import TypeVar

from commands.base import CommandResult, Deps, load_act_save, meta_of
from commands.models import CommandContext, RecomputeAccount
from commands.ports import Refolds

R = TypeVar("R")


def recompute(
    deps: Deps, refolds: Refolds[R], cmd: RecomputeAccount, ctx: CommandContext
) -> tuple[CommandResult, R]:
    """Claims the account's recompute before anything is recorded (a refused recompute
    leaves no request event behind), records the request, then refolds."""
    with refolds.claim(cmd.account_id) as refold:
        result = recompute_account(deps, cmd, ctx, refolds.projection_names())
        return result, refold()


def recompute_account(
    deps: Deps, cmd: RecomputeAccount, ctx: CommandContext, projections: list[str]
) -> CommandResult:
    """Records `AccountRecomputeRequested` (support only, reason required)."""
    return load_act_save(
        deps,
        cmd.account_id,
        ctx,
        lambda account: account.request_recompute(projections, meta_of(deps, ctx)),
    )
