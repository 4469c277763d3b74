"""A plan change in a customer's words, for the billing pages: what the preview says will
be charged or credited now and what the next renewal will be (before confirming), and what
the change then did (after). Amounts come from the /v1 answers, never recomputed here."""

from __future__ import annotations

from adapters.http.portal.invoice_words import amount, day
from adapters.http.routers.billing import BillingWritten
from adapters.http.routers.plan_preview import PlanChangePreview
from ledger.subscriptions import Plan


def every(plan: Plan) -> str:
    """How often the plan bills: every month, every 3 months, every year."""
    months = plan.interval_months
    if months == 12:
        return "every year"
    return "every month" if months == 1 else f"every {months} months"


def plan_name(plan: Plan) -> str:
    """Pro, monthly (20.00 USD every month)."""
    price = amount(plan.price.amount, plan.price.currency)
    return f"{plan.product} ({price} {every(plan)})"


def now_in_words(preview: PlanChangePreview) -> list[str]:
    """What happens to money now, in the order a person reads it."""
    cur = preview.currency
    if preview.amount_due_now > 0:
        due = amount(preview.amount_due_now, cur)
        said = [
            f"You will be invoiced {due} now, due by {day(preview.due_at)}."
            if preview.due_at
            else f"You will be charged {due} now."
        ]
        if preview.credit_applied > 0:
            said.append(f"Your credit pays {amount(preview.credit_applied, cur)} of the change.")
        return said
    if preview.credit_granted > 0:
        credit = amount(preview.credit_granted, cur)
        return [
            "Nothing is charged now.",
            f"{credit} is added to your credit; it pays your next invoices first.",
        ]
    if preview.credit_applied > 0:
        return [f"Your credit pays the whole change ({amount(preview.credit_applied, cur)})."]
    return ["Nothing is charged or credited now."]


def renewal_in_words(preview: PlanChangePreview, plan: Plan) -> str:
    """The next renewal on the new plan, or the end of a subscription that will not renew."""
    renewal = preview.next_renewal
    if renewal is None:
        return f"Your subscription ends on {day(preview.ends_at)}; it will not renew."
    price = amount(renewal.price, preview.currency)
    said = f"From {day(renewal.at)} you will be billed {price} {every(plan)}."
    if renewal.credit_applied > 0:
        covered = amount(renewal.credit_applied, preview.currency)
        said += f" Your credit would pay {covered} of the first renewal."
    return said


def done_in_words(written: BillingWritten, charged: str) -> str:
    """What the confirmed change did, from its /v1 answer; `charged` is its invoice's
    amount due, as the invoice read model has it."""
    payment = written.payment
    if payment is None:
        return "Your plan is changed. Nothing was charged."
    if payment.status == "succeeded":
        return f"Your plan is changed. You were charged {charged}."
    if payment.status == "requires_action":
        return (
            f"Your bank asks you to confirm the payment of {charged}; if it is not"
            " confirmed, your plan goes back to what it was."
        )
    if payment.status == "failed":
        return "The payment was declined, so your plan was not changed. Nothing was charged."
    return f"Your plan is changed; the payment of {charged} is being processed."
