"""Test clocks from support (development and test deployments only): which clock an account
is attached to (scope `accounts:read`), and advancing it with a reason (scope
`billing:run`): the billing run of every account on the clock runs at each day's time on
the way, its events carrying the support agent, the surface, the reason and the request's
correlation. Refused (409 `test_clocks_refused`) where no test clocks are wired: production
settings."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from adapters.bootstrap import Container
from adapters.clock_registry import TestClock
from adapters.clock_walk import Walk, advance, registry
from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands.base import load_account
from commands.models import Reason
from ledger.errors import DomainError, ErrorKind


class NotOnATestClock(DomainError):
    """This account is not attached to a test clock."""

    code = "account_not_on_test_clock"
    kind = ErrorKind.NOT_FOUND


class TestClockView(BaseModel):
    __test__ = False
    clock_id: str
    name: str
    started_at: datetime
    frozen_at: datetime = Field(description="the clock's time: its accounts are billed at it")
    accounts: int = Field(description="how many accounts are attached to the clock")


class AccountClock(BaseModel):
    account_id: UUID
    clock: TestClockView


class AdvanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: Annotated[float, Field(gt=0, le=366, description="how far to move the clock")]
    reason: Reason


class ClockAdvanced(BaseModel):
    account_id: UUID
    clock: TestClockView = Field(description="the clock after the advance")
    from_at: datetime
    to_at: datetime
    steps: int = Field(description="billing runs made on the way, one per day")
    renewed: int
    attempts: int = Field(description="payment attempts the runs made (renewals, dunning)")
    exhausted: int = Field(description="invoices dunning gave up on (uncollectible)")
    errors: int = Field(description="accounts whose run failed at a step")
    version: int = Field(description="this account's stream version after the advance")
    replayed: bool


def _view(clock: TestClock) -> TestClockView:
    return TestClockView(
        clock_id=clock.clock_id,
        name=clock.name,
        started_at=clock.started_at,
        frozen_at=clock.frozen_at,
        accounts=clock.accounts,
    )


def clock_of(container: Container, account_id: UUID) -> TestClock:
    """The account's clock: AccountNotFound, TestClocksRefused or NotOnATestClock if none."""
    load_account(container.app, account_id)
    clock = registry(container).clock_of(account_id)
    if clock is None:
        raise NotOnATestClock()
    return clock


def _read(s: HttpSurface) -> Callable[..., AccountClock]:
    caller = s.caller("accounts:read")

    def read(account_id: UUID, call: Call = Depends(caller)) -> AccountClock:
        return AccountClock(
            account_id=account_id, clock=_view(clock_of(call.container, account_id))
        )

    return read


def _advance(s: HttpSurface) -> Callable[..., ClockAdvanced]:
    caller = s.caller("billing:run", keyed=True)

    def advance_clock(
        account_id: UUID, body: AdvanceBody, call: Call = Depends(caller)
    ) -> ClockAdvanced:
        clock = clock_of(call.container, account_id)
        to = clock.frozen_at + timedelta(days=body.days)
        walk = advance(call.container, clock.clock_id, to, ctx=call.ctx(body))
        return advanced(call.container, account_id, walk)

    return advance_clock


def advanced(container: Container, account_id: UUID, walk: Walk) -> ClockAdvanced:
    recorded = walk.recorded
    if recorded is None:  # every walk that returns was recorded
        raise RuntimeError("an advance returned without its record")
    return ClockAdvanced(
        account_id=account_id,
        clock=_view(registry(container).get(walk.clock.clock_id)),
        from_at=recorded.from_at,
        to_at=recorded.to_at,
        **walk.totals(),
        version=load_account(container.app, account_id).version,
        replayed=walk.replayed,
    )


CLOCK = "/accounts/{account_id}/test-clock"
TEST_CLOCKS = Feature(
    (
        Route(
            "GET",
            CLOCK,
            _read,
            "{surface}_test_clock",
            "An account's test clock",
            "The test clock the account is attached to, and its time (404"
            " `account_not_on_test_clock` when none). Never in production settings.",
        ),
        Route(
            "POST",
            f"{CLOCK}/advance",
            _advance,
            "{surface}_advance_test_clock",
            "Advance an account's test clock",
            "Moves the account's test clock forward by `days`, a day at a time, running the"
            " billing of every account on the clock at each day's time (renewals, dunning"
            " retries, credit expiry), and keeps who moved it and why. Refused in production"
            " settings.",
        ),
    )
)
