"""Plans, subscriptions, billing periods and proration."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ledger.errors import DomainError, ErrorKind
from ledger.invoices import LineItem
from ledger.money import MAX_AMOUNT, Money, prorate
from ledger.values import Immutable


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    CANCELED = "canceled"


class PlanNotFound(DomainError):
    """No such plan in the catalogue."""

    code = "plan_not_found"
    kind = ErrorKind.NOT_FOUND


class SubscriptionNotFound(DomainError):
    """No such subscription on this account."""

    code = "subscription_not_found"
    kind = ErrorKind.NOT_FOUND


class SubscriptionNotActive(DomainError):
    """The subscription is canceled."""

    code = "subscription_not_active"
    kind = ErrorKind.REFUSED


class PlanMismatch(DomainError):
    """The plan given is not the plan the subscription is on."""

    code = "plan_mismatch"
    kind = ErrorKind.CONFLICT


class SamePlan(DomainError):
    """The subscription is already on this plan."""

    code = "same_plan"
    kind = ErrorKind.INVALID


QUOTE_VALID_FOR = timedelta(minutes=30)  # how long a plan change preview's proration holds


class QuoteExpired(DomainError):
    """The plan change names a preview's quote time that no longer holds (older than
    QUOTE_VALID_FOR, in the future, or before the current period): preview it again."""

    code = "quote_expired"
    kind = ErrorKind.CONFLICT


def prorated_at(sub: Subscription, quoted_at: datetime | None, now: datetime) -> datetime:
    """When a plan change is prorated: now, or the time its preview quoted, so the change
    charges exactly what the customer was shown (time is counted in seconds, so a later
    moment is another amount)."""
    if quoted_at is None:
        return now
    if quoted_at > now or now - quoted_at > QUOTE_VALID_FOR or quoted_at < sub.period_start:
        raise QuoteExpired(
            f"the preview quoted at {quoted_at.isoformat()} no longer holds: preview again"
        )
    return quoted_at


@dataclass(frozen=True)
class Plan(Immutable):
    plan_id: str
    product: str
    interval_months: int
    price: Money

    def __post_init__(self) -> None:
        if self.interval_months not in (1, 3, 6, 12) or not 0 <= self.price.amount <= MAX_AMOUNT:
            raise ValueError(f"plan {self.plan_id}: bad interval or price")


@dataclass(frozen=True)
class Subscription(Immutable):
    subscription_id: str
    plan_id: str
    period_start: datetime
    period_end: datetime
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    anchor_day: int | None = None  # the day of month billing is anchored to (31 stays 31)

    @property
    def active(self) -> bool:
        return self.status is SubscriptionStatus.ACTIVE

    def renewed(self, plan: Plan) -> Subscription:
        return replace(
            self,
            period_start=self.period_end,
            period_end=add_months(self.period_end, plan.interval_months, self.anchor_day),
        )

    def canceled(self, at: datetime) -> Subscription:
        return replace(self, status=SubscriptionStatus.CANCELED, canceled_at=at)


def add_months(moment: datetime, months: int, anchor_day: int | None = None) -> datetime:
    """Same day `months` later, on the anchor day where the month has it, else the month's
    last day (Stripe's anchor rule: Jan 31 -> Feb 28 -> Mar 31)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_line(plan: Plan, subscription_id: str, start: datetime, end: datetime) -> LineItem:
    return LineItem(f"{plan.product} ({plan.plan_id})", plan.price, subscription_id, start, end)


def proration_lines(
    old: Plan, new: Plan, sub: Subscription, at: datetime
) -> tuple[LineItem, LineItem]:
    """Credit for the unused part of the old plan and a charge for the rest of the period on
    the new one. Time is counted in whole seconds; each line rounds half away from zero to
    the minor unit on its own (documented in docs/domain.md)."""
    total = int((sub.period_end - sub.period_start).total_seconds())
    remaining = max(0, int((sub.period_end - at).total_seconds()))
    credit = prorate(old.price, remaining, total)
    charge = prorate(new.price, remaining, total)
    sid = sub.subscription_id
    return (
        LineItem(f"Unused time on {old.product} ({old.plan_id})", -credit, sid, at, sub.period_end),
        LineItem(
            f"Remaining time on {new.product} ({new.plan_id})", charge, sid, at, sub.period_end
        ),
    )
