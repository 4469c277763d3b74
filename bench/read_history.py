"""Accounts with a long history, built through the commands as production builds them: a
card, a monthly subscription collected off-session, then month after month the billing run
(renewal, invoice, attempt; every third collection declined once and retried by dunning the
next day) and now and then a credit granted, until the stream holds exactly `events`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from bench.month_end import InstantProcessor
from commands import dunning
from commands.accounts import open_account
from commands.base import Deps
from commands.billing import subscribe
from commands.credits import grant_credit
from commands.methods import add_card
from commands.models import (
    AddCard,
    CommandContext,
    GrantCredit,
    OpenAccount,
    RunBilling,
    Subscribe,
)
from commands.ports import ChargeRequest, ChargeResult
from ledger.meta import ActorKind, Surface

PLAN = "pro-monthly-usd"
DECLINE_EVERY = 3  # every third charge is declined (soft), then retried by dunning
CREDIT_EVERY = 4  # months between two credits granted
MONTH_STEP_MAX = 9  # events a month can add at most (a declined attempt and its retry)
SUPPORT = CommandContext(
    actor_id="bench-support",
    actor_kind=ActorKind.SUPPORT,
    surface=Surface.NINJAPANEL,
    reason="bench: credits and recomputes",
)
RUN = CommandContext(actor_id="billing-run", actor_kind=ActorKind.SYSTEM, surface=Surface.SYSTEM)


class WalkingClock:
    """The time the history is written at: the builder moves it forward."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class SometimesDeclines(InstantProcessor):
    """Answers at once; every `DECLINE_EVERY`th charge is declined (a soft decline)."""

    def __init__(self) -> None:
        self.charges = 0

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.charges += 1
        if self.charges % DECLINE_EVERY == 0:
            return ChargeResult(succeeded=False, decline_code="insufficient_funds")
        return super().charge(request)


def build_history(deps: Deps, clock: WalkingClock, index: int, events: int) -> UUID:
    """One account whose stream holds exactly `events` events (at least a dozen)."""
    deps = replace(deps, clock=clock, gateway=SometimesDeclines(), account_clocks=None)
    opened = open_account(deps, _opening(index), RUN)
    account_id = opened.account_id
    add_card(deps, _card(account_id), RUN)
    subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN, on_session=False), RUN)
    version = _bill(deps, account_id)  # nothing due yet: the head version
    month = 0
    while version + MONTH_STEP_MAX < events:
        month += 1
        if month % CREDIT_EVERY == 0:
            version = _credit(deps, account_id)
        clock.advance(timedelta(days=31))
        version = max(version, _bill(deps, account_id))
        clock.advance(timedelta(days=1))  # dunning's first retry of a declined collection
        version = max(version, _bill(deps, account_id))
    while version < events:  # the last few: credits, one event each
        version = _credit(deps, account_id)
    return account_id


def _bill(deps: Deps, account_id: UUID) -> int:
    report = dunning.run_one_by_one(deps, RunBilling(account_ids=[account_id]), RUN)
    if report.errors:
        raise RuntimeError(f"billing run failed: {report.errors}")
    return report.reached[str(account_id)].version


def _credit(deps: Deps, account_id: UUID) -> int:
    cmd = GrantCredit(account_id=account_id, amount=500, currency="USD")
    return grant_credit(deps, cmd, SUPPORT).version


def _opening(index: int) -> OpenAccount:
    return OpenAccount(name=f"Long History {index:04d}", email=f"history-{index:04d}@example.com",
                       country="US", currency="USD")  # fmt: skip


def _card(account_id: UUID) -> AddCard:
    return AddCard(account_id=account_id, processor_ref="pm_card_visa", brand="visa",
                   last4="4242", exp_month=12, exp_year=2099)  # fmt: skip
