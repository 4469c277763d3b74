"""Recompute one account's read models from its event stream (scope `accounts:write`, with a
reason)."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import Depends
from pydantic import BaseModel

from adapters.http.common import ReasonBody
from adapters.http.surface import Call, Feature, HttpSurface, Route
from adapters.recompute import recompute


class ProjectionChange(BaseModel):
    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]


class Recomputed(BaseModel):
    account_id: UUID
    version: int
    projections: dict[str, ProjectionChange]


def _recompute(s: HttpSurface) -> Callable[..., Recomputed]:
    caller = s.caller("accounts:write")

    def run(account_id: UUID, body: ReasonBody, call: Call = Depends(caller)) -> Recomputed:
        result, changes = recompute(call.container, account_id, call.ctx(body))
        return Recomputed(
            account_id=account_id,
            version=result.version,
            projections={
                name: ProjectionChange(changed=ch.changed, before=ch.before, after=ch.after)
                for name, ch in changes.items()
            },
        )

    return run


RECOMPUTE = Feature(
    (
        Route(
            "POST",
            "/accounts/{account_id}/recompute",
            _recompute,
            "{surface}_recompute",
            "Recompute an account's read models",
            "Replays the "
            "account's events into every read model; answers what "
            "changed, before and after.",
        ),
    )
)
