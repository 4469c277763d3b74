"""What every surface's routes share: the container, correlation and idempotency headers,
query types, the account DTOs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid5

from fastapi import Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from psycopg import Connection
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from adapters.bootstrap import Container
from adapters.http.auth import Principal
from commands.base import CommandResult, Deps, fingerprint
from commands.customers import sync_configured
from commands.errors import AccountNotFound
from commands.models import CommandContext, ProfileChanges, ProfileFields, Reason
from queries.accounts import AccountView, get_account, wait_for_version
from queries.ranges import InvertedRange, check_ordered


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(container_of)]


# A body is its command's own fields (commands/models.py): no account id, it is in the path.
class OpenAccountBody(ProfileFields):
    model_config = ConfigDict(extra="forbid")


class ProfileChangesBody(ProfileChanges):
    model_config = ConfigDict(extra="forbid")


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class SupportOpenAccountBody(OpenAccountBody):
    reason: Reason


class SupportProfileChangesBody(ProfileChangesBody):
    reason: Reason


class AccountWritten(BaseModel):
    """What a write returns: where its events landed, to wait for with `min_version`."""

    account_id: UUID
    version: int
    position: int | None
    replayed: bool
    customer_sync: dict[str, str] | None = Field(
        default=None,
        description="per processor: created, updated, in_sync, pending (processor down), "
        "provider_customer_drifted or provider_customer_not_found (see reconciliation)",
    )


def written(result: CommandResult, customer_sync: dict[str, str] | None = None) -> AccountWritten:
    return AccountWritten(
        account_id=result.account_id,
        version=result.version,
        position=result.position,
        replayed=result.replayed,
        customer_sync=customer_sync,
    )


def written_and_synced(deps: Deps, result: CommandResult, ctx: CommandContext) -> AccountWritten:
    """An account write whose billing identity then goes to the processors' customers."""
    return written(result, sync_configured(deps, result.account_id, ctx))


def correlation_of(request: Request) -> UUID:
    """The request's correlation id, as bound by the middleware for its log lines."""
    correlation_id: UUID = request.state.correlation_id
    return correlation_id


CorrelationId = Annotated[UUID, Depends(correlation_of)]
KEY_PATTERN = r"^[\x20-\x7E]{1,255}$"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=KEY_PATTERN,
        description="Any string of 1 to 255 printable ASCII characters (space to `~`; a"
        " UUID v4 is a good choice), unique per request you mean to make once. Keys are"
        " per caller: the command id is derived from (API key principal, key). A retry with"
        " the same key and the same request (method, path, body) answers the first"
        " request's result with `replayed: true` and records nothing; the same key with"
        " another request answers 409 `idempotency_key_reused`; a repeat while the first"
        " payment is still charging answers 409 `idempotency_key_in_use` with `Retry-After`."
        " An account remembers the last 500 keyed commands sent to it: an older key is a"
        " new command again (payments excepted: a payment key always finds its attempt).",
    ),
]
_KEY_NAMESPACE = UUID("5d2c9f0e-7a41-4c3b-9e8d-1b6a0f2e4c93")


def command_id_for(principal: Principal, key: str | None) -> UUID | None:
    """The command id of a keyed request: the same for the same caller and key, different
    for another caller's identical key (one caller can neither replay nor block another's
    commands)."""
    if key is None:
        return None
    return uuid5(_KEY_NAMESPACE, f"{principal.kind.value}:{principal.id}\n{key}")


def request_fingerprint(request: Request, body: BaseModel | None) -> str:
    """What a keyed request asked: its method, path and validated body."""
    params = body.model_dump(mode="json") if body is not None else None
    return fingerprint(f"{request.method} {request.url.path}", params)


# ISO 8601 / RFC 3339 date and time, seconds and offset optional. Pydantic alone would also
# read a number ("0.5", "1700000000") as a Unix time, which nobody means in a query.
ISO_8601 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?"
)


def _iso_8601_only(value: object) -> object:
    if isinstance(value, str) and not ISO_8601.fullmatch(value):
        raise ValueError("an ISO 8601 date and time is expected, e.g. 2026-01-31T09:30:00Z")
    return value


def _utc_when_naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# The one type of a moment in a query: ISO 8601 only; without an offset it is read as UTC.
Instant = Annotated[datetime, BeforeValidator(_iso_8601_only), AfterValidator(_utc_when_naive)]


def ordered(start_name: str, start: datetime | None, end_name: str, end: datetime | None) -> None:
    """A query range that starts after it ends is a 422 naming its parameters."""
    try:
        check_ordered(start, end)
    except InvertedRange as inverted:
        msg = f"{start_name} is after {end_name}: {inverted}"
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", start_name), "msg": msg, "input": None}]
        ) from inverted


MinVersion = Annotated[
    int | None,
    Query(ge=1, description="read-your-writes: wait (bounded) until this version is applied"),
]


def wait_for(
    conn: Connection[Any], projection: str, account_id: UUID, min_version: int | None
) -> None:
    """Read-your-writes: a write answers with the account's version; a read given it waits,
    bounded, until the projection has applied it (then serves what it has)."""
    if min_version is not None:
        wait_for_version(conn, account_id, min_version, projection=projection)


def read_account(container: Container, account_id: UUID, min_version: int | None) -> AccountView:
    with container.connection() as conn:
        wait_for(conn, "accounts", account_id, min_version)
        view = get_account(conn, account_id)
    if view is None:
        raise AccountNotFound()
    return view
