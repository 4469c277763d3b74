"""Forget an account's personal data (support only: scope `accounts:write`, with a reason):
records `AccountForgotten` and destroys the account's data key."""

from collections.abc import Callable
from uuid import UUID

from fastapi import Depends
from pydantic import BaseModel

from adapters.forget import forget
from adapters.http.common import ReasonBody
from adapters.http.surface import Call, Feature, HttpSurface, Route


class Forgotten(BaseModel):
    account_id: UUID
    version: int
    position: int | None


def _forget(s: HttpSurface) -> Callable[..., Forgotten]:
    caller = s.caller("accounts:write")

    def run(account_id: UUID, body: ReasonBody, call: Call = Depends(caller)) -> Forgotten:
        result = forget(call.container, account_id, call.ctx(body))
        return Forgotten(account_id=account_id, version=result.version, position=result.position)

    return run


FORGET = Feature(
    (
        Route(
            "POST",
            "/accounts/{account_id}/forget",
            _forget,
            "{surface}_forget_account",
            "Forget an account's personal data",
            "Records AccountForgotten and destroys the account's data key: its name, "
            "email, tax id and PayPal payer emails read as erased everywhere from then "
            "on; its money history stays. Irreversible. A repeat answers 409 "
            "nothing_to_change (and destroys the key again).",
        ),
    )
)
