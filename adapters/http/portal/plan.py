"""Plan changes and cancellation (/billing/plan): each subscription with its plan and what
happens at the end of its period; a change shows the proration preview (the customer
surface's `plan_preview`, the domain's own change run and not saved) before the customer
confirms it, then what it charged; a cancellation at the period end is confirmed first.
Both run the customer surface's own handlers (`change_plan`, `cancel`) with the
confirmation page's idempotency key. In bad debt the preview is refused, and the page says
the way out: pay the bad debt."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import AwareDatetime

from adapters.http.portal import plan_words
from adapters.http.portal.access import Posted, SignedIn
from adapters.http.portal.acting import as_customer
from adapters.http.portal.forms import form_key, new_form_key
from adapters.http.portal.invoice_words import amount, day
from adapters.http.portal.pages import PortalRefused, render
from adapters.http.portal.standing import bad_debt_of, own_account, paid_of, subscriptions_of
from adapters.http.routers.billing import BillingWritten, CancelBody, PlanBody
from adapters.http.routers.plan_preview import PlanChangePreview
from ledger.errors import BadDebtBlocked
from ledger.subscriptions import Plan, QuoteExpired

router = APIRouter()
SubscriptionId = Annotated[str, Path(min_length=1, max_length=200)]
PlanChoice = Annotated[str, Query(min_length=1, max_length=200)]
After = Annotated[int | None, Query(ge=0)]


def _catalogue(request: Request) -> Any:
    return request.app.state.container.deps.catalogue


def _plans_for(request: Request, currency: str, current: str) -> list[Plan]:
    """The plans a subscription may move to: the account's currency, not its own plan."""
    plans: list[Plan] = _catalogue(request).plans()
    return [p for p in plans if p.price.currency == currency and p.plan_id != current]


@router.get("/plan", name="portal_plan")
def plan(request: Request, session: SignedIn, after: After = None) -> HTMLResponse:
    """`after`: a write's version this page must show (a cancellation just made)."""
    account = own_account(request, session)
    subscriptions = subscriptions_of(request, session, after)
    catalogue = _catalogue(request)
    return render(
        request,
        "plan.html",
        session,
        account=account,
        subscriptions=subscriptions,
        plans={s.plan_id: catalogue.plan(s.plan_id) for s in subscriptions},
        choices={
            s.subscription_id: _plans_for(request, account.currency, s.plan_id)
            for s in subscriptions
        },
        bad_debt=bad_debt_of(request, session),
        paid=paid_of(request, session),
        plan_name=plan_words.plan_name,
    )


@router.get("/plan/{subscription_id}/preview", name="portal_plan_preview")
def preview(
    request: Request, session: SignedIn, subscription_id: SubscriptionId, plan_id: PlanChoice
) -> HTMLResponse:
    """What the change would charge or credit now, and the next renewal; the confirmation
    form carries a new idempotency key and the preview's quote time."""
    return _preview_page(request, session, subscription_id, plan_id)


QUOTE_EXPIRED = (
    "The amounts you confirmed were quoted more than 30 minutes ago, so nothing was changed"
    " or charged. These are the amounts now."
)


def _preview_page(
    request: Request,
    session: SignedIn,
    subscription_id: str,
    plan_id: str,
    notice: str | None = None,
) -> HTMLResponse:
    try:
        seen: PlanChangePreview = as_customer(
            request, session, "plan_preview", subscription_id=subscription_id, plan_id=plan_id
        )
    except PortalRefused as refused:
        if isinstance(refused.__cause__, BadDebtBlocked):
            return _paused(request, session)
        raise
    catalogue = _catalogue(request)
    to, old = catalogue.plan(seen.to_plan_id), catalogue.plan(seen.from_plan_id)
    return render(
        request,
        "plan_preview.html",
        session,
        account=own_account(request, session),
        preview=seen,
        old=plan_words.plan_name(old),
        new=plan_words.plan_name(to),
        now=plan_words.now_in_words(seen),
        renewal=plan_words.renewal_in_words(seen, to),
        lines=[(line.description, amount(line.amount, seen.currency)) for line in seen.lines],
        net=amount(seen.net, seen.currency),
        key=new_form_key(),
        notice=notice,
    )


@router.post("/plan/{subscription_id}/change", name="portal_plan_change")
def change(
    request: Request,
    session: Posted,
    subscription_id: SubscriptionId,
    plan_id: Annotated[str, Form(min_length=1, max_length=200)],
    quoted_at: Annotated[AwareDatetime | None, Form()] = None,
    key: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    """The confirmed change, as the customer's `POST /v1/.../plan` with the form's key (a
    form sent twice changes once) and the preview's quote time (it charges what the preview
    showed), then what it charged, from its invoice."""
    try:
        written: BillingWritten = as_customer(
            request,
            session,
            "change_plan",
            form_key(key, session),
            subscription_id=subscription_id,
            body=PlanBody(plan_id=plan_id, quoted_at=quoted_at),
        )
    except PortalRefused as refused:
        if isinstance(refused.__cause__, BadDebtBlocked):
            return _paused(request, session)
        if isinstance(refused.__cause__, QuoteExpired):
            return _preview_page(request, session, subscription_id, plan_id, QUOTE_EXPIRED)
        raise
    charged = _charged(request, session, written)
    to = _catalogue(request).plan(plan_id)
    return render(
        request,
        "plan_done.html",
        session,
        account=own_account(request, session),
        said=plan_words.done_in_words(written, charged),
        new=plan_words.plan_name(to),
        invoice_id=written.invoice_id,
        payment=written.payment,
    )


def _charged(request: Request, session: Posted, written: BillingWritten) -> str:
    """The change's invoice amount due, read once the invoice read model has the write."""
    if written.invoice_id is None:
        return ""
    invoice = as_customer(
        request,
        session,
        "customer_detail",
        invoice_id=written.invoice_id,
        min_version=written.version,
    )
    return amount(invoice.amount_due, invoice.currency)


def _paused(request: Request, session: SignedIn) -> HTMLResponse:
    """Purchases are paused in bad debt: how much is owed, and the way out."""
    return render(
        request,
        "plan_paused.html",
        session,
        account=own_account(request, session),
        status_code=409,
        bad_debt=bad_debt_of(request, session),
    )


@router.get("/plan/{subscription_id}/cancel", name="portal_plan_cancel")
def cancel_confirm(
    request: Request, session: SignedIn, subscription_id: SubscriptionId
) -> HTMLResponse:
    found = [s for s in subscriptions_of(request, session) if s.subscription_id == subscription_id]
    if not found or found[0].status != "active":
        raise PortalRefused(
            404, "Not found", "There is no such subscription for your account.", session=session
        )
    sub = found[0]
    return render(
        request,
        "plan_cancel.html",
        session,
        account=own_account(request, session),
        subscription=sub,
        plan=plan_words.plan_name(_catalogue(request).plan(sub.plan_id)),
        ends=day(sub.period_end),
        key=new_form_key(),
    )


@router.post("/plan/{subscription_id}/cancel", name="portal_plan_cancelled")
def cancel(
    request: Request,
    session: Posted,
    subscription_id: SubscriptionId,
    key: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    """Cancels at the end of the period, as the customer's `POST /v1/.../cancel`; the
    overview then says when it ends."""
    written: BillingWritten = as_customer(
        request,
        session,
        "cancel",
        form_key(key, session),
        subscription_id=subscription_id,
        body=CancelBody(at_period_end=True),
    )
    to = request.url_for("portal_plan").include_query_params(after=written.version)
    return RedirectResponse(str(to), status_code=303)
