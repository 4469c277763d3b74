"""What a plan change would do now, without doing it: the domain's own `change_plan` run on
the account as loaded and never saved, so the preview is the charge (or credit) the change
would record at this moment, refused exactly when the change would be refused (bad debt,
another currency, the same plan, no usable method for a customer paying now)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from commands.base import Deps, load_account, meta_of
from commands.models import ChangePlan, CommandContext
from ledger.account import Account
from ledger.credits import allocate
from ledger.invoices import LineItem
from ledger.meta import ActorKind
from ledger.money import Money
from ledger.subscriptions import Plan, proration_lines

_PREVIEW_INVOICE = "plan-preview"  # the id the unsaved change's invoice takes


@dataclass(frozen=True)
class Renewal:
    """The first renewal on the new plan: its date, the plan's price and the part of it
    today's credit balance would cover (credits may still be used or expire before)."""

    at: datetime
    price: Money
    credit_applied: Money

    @property
    def amount_due(self) -> Money:
        return self.price - self.credit_applied


@dataclass(frozen=True)
class PlanPreview:
    """A plan change as it would be recorded at `quoted_at`: the proration lines, their net,
    the part of it the credit balance covers, what is charged (or invoiced) now, the credit
    granted by a cheaper plan, and the next renewal (None when the subscription ends at the
    end of its period: then `ends_at`)."""

    account_id: str
    subscription_id: str
    from_plan: Plan
    to_plan: Plan
    quoted_at: datetime
    lines: tuple[LineItem, LineItem]
    net: Money
    credit_applied: Money
    amount_due_now: Money
    due_at: datetime | None  # a send-invoice (PayPal) invoice's due date; None: charged now
    credit_granted: Money
    next_renewal: Renewal | None
    ends_at: datetime | None


def preview_plan_change(deps: Deps, cmd: ChangePlan, ctx: CommandContext) -> PlanPreview:
    """The change `commands.billing.change_plan` would make for `cmd` now. Nothing is
    recorded: the account is a fresh load (a copy, when the repository caches) that is
    dropped after."""
    account = load_account(deps.app, cmd.account_id)
    new = deps.catalogue.plan(cmd.plan_id)
    sub = account.subscriptions.get(cmd.subscription_id)
    old = deps.catalogue.plan(sub.plan_id) if sub is not None else new
    meta = meta_of(deps, _unrecorded(ctx))
    invoice_id = f"{_PREVIEW_INVOICE}-{deps.new_id()}"
    net = account.change_plan(
        cmd.subscription_id, old, new, invoice_id, meta, on_session=cmd.on_session
    )
    return _preview(account, cmd, old, new, invoice_id, net, meta.occurred_at)


def _unrecorded(ctx: CommandContext) -> CommandContext:
    """A support preview needs no reason: the reason is for the audit trail of what is
    recorded, and a preview records nothing."""
    if ctx.actor_kind is ActorKind.SUPPORT and not (ctx.reason or "").strip():
        return ctx.model_copy(update={"reason": "plan change preview (nothing recorded)"})
    return ctx


def _preview(
    account: Account,
    cmd: ChangePlan,
    old: Plan,
    new: Plan,
    invoice_id: str,
    net: Money,
    at: datetime,
) -> PlanPreview:
    zero = Money.zero(net.currency)
    sub = account.subscriptions[cmd.subscription_id]
    invoice = account.invoices.get(invoice_id)
    granted = account.credits.get(f"{invoice_id}-credit")
    # The change keeps the period: the lines it recorded are these, invoiced or not.
    lines = proration_lines(old, new, sub, at)
    return PlanPreview(
        account_id=str(cmd.account_id),
        subscription_id=cmd.subscription_id,
        from_plan=old,
        to_plan=new,
        quoted_at=at,
        lines=lines,
        net=net,
        credit_applied=(invoice.credit_applied or zero) if invoice else zero,
        amount_due_now=invoice.amount_due if invoice else zero,
        due_at=invoice.due_at if invoice else None,
        credit_granted=granted.granted if granted else zero,
        next_renewal=None if sub.cancel_at_period_end else _renewal(account, new, sub.period_end),
        ends_at=sub.period_end if sub.cancel_at_period_end else None,
    )


def _renewal(account: Account, plan: Plan, at: datetime) -> Renewal:
    used = allocate(account.credits.values(), plan.price, at)
    return Renewal(at, plan.price, Money(sum(used.values()), plan.price.currency))
