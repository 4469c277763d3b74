"""Account routes: one account (get, change the profile, close) on every surface; opening
and listing accounts where the surface offers them. Support writes carry a reason (their
bodies require it), recorded on the events."""

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, status

from adapters.http.common import (
    AccountWritten,
    MinVersion,
    OpenAccountBody,
    ProfileChangesBody,
    ReasonBody,
    SupportOpenAccountBody,
    SupportProfileChangesBody,
    read_account,
    written,
    written_and_synced,
)
from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands import accounts as account_commands
from commands.models import CloseAccount, OpenAccount, UpdateProfile
from queries.accounts import AccountView, list_accounts

READ, WRITE = "accounts:read", "accounts:write"
Limit = Annotated[int, Query(ge=1, le=500)]


def _get(s: HttpSurface) -> Callable[..., AccountView]:
    caller = s.caller(READ)

    def get(
        account_id: UUID, call: Call = Depends(caller), min_version: MinVersion = None
    ) -> AccountView:
        return read_account(call.container, account_id, min_version)

    return get


def _update(s: HttpSurface) -> Callable[..., AccountWritten]:
    caller = s.caller(WRITE)

    def update(
        account_id: UUID, body: ProfileChangesBody, call: Call = Depends(caller)
    ) -> AccountWritten:
        ctx = call.ctx(body)
        cmd = UpdateProfile(account_id=account_id, **body.model_dump(exclude={"reason"}))
        return written_and_synced(
            call.deps, account_commands.update_profile(call.deps, cmd, ctx), ctx
        )

    if s.reason_required:  # the same handler, given the body that requires a reason
        update.__annotations__["body"] = SupportProfileChangesBody
    return update


def _close(s: HttpSurface) -> Callable[..., AccountWritten]:
    caller = s.caller(WRITE)

    def close(account_id: UUID, call: Call = Depends(caller)) -> AccountWritten:
        cmd = CloseAccount(account_id=account_id)
        return written(account_commands.close_account(call.deps, cmd, call.ctx()))

    def close_with_reason(
        account_id: UUID, body: ReasonBody, call: Call = Depends(caller)
    ) -> AccountWritten:
        cmd = CloseAccount(account_id=account_id)
        return written(account_commands.close_account(call.deps, cmd, call.ctx(body)))

    return close_with_reason if s.reason_required else close


def _open(s: HttpSurface) -> Callable[..., AccountWritten]:
    caller = s.caller(WRITE, keyed=True)

    def open_account(body: OpenAccountBody, call: Call = Depends(caller)) -> AccountWritten:
        ctx = call.ctx(body)
        cmd = OpenAccount(**body.model_dump(exclude={"reason"}))
        return written_and_synced(
            call.deps, account_commands.open_account(call.deps, cmd, ctx), ctx
        )

    if s.reason_required:
        open_account.__annotations__["body"] = SupportOpenAccountBody
    return open_account


def _list(s: HttpSurface) -> Callable[..., list[AccountView]]:
    caller = s.caller(READ)

    def list_all(call: Call = Depends(caller), limit: Limit = 50) -> list[AccountView]:
        with call.container.connection() as conn:
            return list_accounts(conn, limit)

    return list_all


def _list_by_status(s: HttpSurface) -> Callable[..., list[AccountView]]:
    caller = s.caller(READ)

    def list_by_status(
        call: Call = Depends(caller), limit: Limit = 50, status: str | None = None
    ) -> list[AccountView]:
        with call.container.connection() as conn:
            return list_accounts(conn, limit, status)

    return list_by_status


ACC = "/accounts/{account_id}"
ONE = Feature(
    (
        Route(
            "GET",
            ACC,
            _get,
            "{surface}_get",
            "Get an account",
            "The account's profile and status from the read "
            "model; `min_version` waits (bounded) for a write to be applied.",
            names={"customer": "get_own_account"},
        ),
        Route(
            "PATCH",
            ACC,
            _update,
            "{surface}_update",
            "Change the billing profile",
            "Changes name, email, country, "
            "currency or tax id; the processors' customers are updated after.",
            names={"customer": "update_own_profile"},
        ),
        Route(
            "POST",
            f"{ACC}/close",
            _close,
            "{surface}_close",
            "Close the account",
            "Closes the account: no more billing; a closed account refuses changes with 409.",
            names={"customer": "close_own_account"},
        ),
    )
)
OPEN = Feature(
    (
        Route(
            "POST",
            "/accounts",
            _open,
            "{surface}_open",
            "Open an account",
            "Opens a billing account and creates its "
            "processor customers. An Idempotency-Key makes a retry safe.",
            status_code=status.HTTP_201_CREATED,
        ),
    )
)
_LISTED = ("List accounts", "The newest accounts from the read model.")
LIST = Feature((Route("GET", "/accounts", _list, "{surface}_list", *_LISTED),))
LIST_BY_STATUS = Feature((Route("GET", "/accounts", _list_by_status, "{surface}_list", *_LISTED),))
