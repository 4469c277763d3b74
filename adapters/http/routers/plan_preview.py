"""The plan-change preview (scope `accounts:read`): what `POST .../plan` would charge or
credit now, computed by the domain's own change on the account as loaded and never saved
(commands/plan_preview.py). Refused exactly as the change would be (bad debt: 409
`bad_debt_blocked`, with the amount and the way out in `detail`). Amounts are integers in
the currency's minor units."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands.models import ChangePlan, MethodId, PlanId
from commands.plan_preview import PlanPreview, preview_plan_change

READ = "accounts:read"


class PreviewLine(BaseModel):
    description: str
    amount: int = Field(description="minor units; negative: credit for unused time")
    period_start: datetime | None
    period_end: datetime | None


class NextRenewal(BaseModel):
    at: datetime
    price: int
    credit_applied: int = Field(
        description="what today's credit balance would cover (credits may be used or expire before)"
    )
    amount_due: int


class PlanChangePreview(BaseModel):
    account_id: UUID
    subscription_id: str
    from_plan_id: str
    to_plan_id: str
    currency: str
    quoted_at: datetime = Field(
        description="the moment the proration is computed for (to the second): send it as"
        " the change's `quoted_at` within 30 minutes and the change prorates from it, charging"
        " what this preview shows; without it the change prorates from its own moment"
    )
    lines: list[PreviewLine]
    net: int = Field(description="the two lines' sum: positive is charged, negative credited")
    credit_applied: int = Field(description="the part of a positive net the credit balance covers")
    amount_due_now: int = Field(description="what is charged now (or invoiced, see due_at)")
    due_at: datetime | None = Field(
        description="a send-invoice (PayPal) account's due date; null: charged at once"
    )
    credit_granted: int = Field(description="a negative net, added to the credit balance")
    next_renewal: NextRenewal | None = Field(
        description="null when the subscription ends at the end of its period (`ends_at`)"
    )
    ends_at: datetime | None

    @classmethod
    def of(cls, p: PlanPreview) -> "PlanChangePreview":
        renewal = p.next_renewal
        return cls(
            account_id=UUID(p.account_id),
            subscription_id=p.subscription_id,
            from_plan_id=p.from_plan.plan_id,
            to_plan_id=p.to_plan.plan_id,
            currency=p.net.currency,
            quoted_at=p.quoted_at,
            lines=[
                PreviewLine(
                    description=line.description,
                    amount=line.amount.amount,
                    period_start=line.period_start,
                    period_end=line.period_end,
                )
                for line in p.lines
            ],
            net=p.net.amount,
            credit_applied=p.credit_applied.amount,
            amount_due_now=p.amount_due_now.amount,
            due_at=p.due_at,
            credit_granted=p.credit_granted.amount,
            next_renewal=None
            if renewal is None
            else NextRenewal(
                at=renewal.at,
                price=renewal.price.amount,
                credit_applied=renewal.credit_applied.amount,
                amount_due=renewal.amount_due.amount,
            ),
            ends_at=p.ends_at,
        )


def _preview(s: HttpSurface) -> Callable[..., PlanChangePreview]:
    caller = s.caller(READ)

    def plan_preview(
        account_id: UUID,
        subscription_id: MethodId,
        call: Annotated[Call, Depends(caller)],  # first: who may ask, then the query
        plan_id: Annotated[PlanId, Query(description="the plan to change to")],
        on_session: Annotated[
            bool, Query(description="the customer pays now (always, for a customer)")
        ] = True,
    ) -> PlanChangePreview:
        cmd = ChangePlan(
            account_id=account_id,
            subscription_id=subscription_id,
            plan_id=plan_id,
            on_session=on_session or s.customer_present,
        )
        return PlanChangePreview.of(preview_plan_change(call.deps, cmd, call.ctx()))

    return plan_preview


PREVIEW = Feature(
    (
        Route(
            "GET",
            "/accounts/{account_id}/subscriptions/{subscription_id}/plan-preview",
            _preview,
            "plan_preview",
            "Preview a plan change",
            "What changing to `plan_id` now would charge or credit (the proration lines, the"
            " credit balance applied, the amount due now) and the next renewal; records"
            " nothing. Refused as the change would be.",
        ),
    ),
    tag="billing",
)
