"""The console's actions, each in three server-rendered steps, every post with the
session's CSRF token:

1. the form (on the account page, or the action's own page): its choices and a reason;
2. review: the confirmation page says in words exactly what will happen, with Confirm
   (carrying the idempotency key made now) and Cancel;
3. confirm: the support route's handler runs (acting.py); the result page shows what
   happened and the events the action recorded, read back by its correlation id.

A missing reason or an unclear form is answered on the form page (nothing is confirmed);
a domain refusal shows its message in words. To add an action: acting.Action in a module
of its own, its template action_<slug>.html, and one line in ACTIONS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from adapters.bootstrap import Container
from adapters.http.common import ContainerDep
from adapters.http.console import act_bad_debt, act_credits, act_recompute, act_retry
from adapters.http.console.access import Posted, SignedIn
from adapters.http.console.acting import (
    Acting,
    Action,
    Form,
    Parsed,
    Unclear,
    acting,
    in_words,
    reason_of,
    recorded,
)
from adapters.http.console.actions2 import ACTIONS2
from adapters.http.console.pages import ConsoleRefused, render
from adapters.http.console.sessions import ConsoleSession
from adapters.http.problems import status_of
from ledger.errors import DomainError
from queries.accounts import AccountView, get_account

ACTIONS: dict[str, Action] = {
    a.slug: a
    for a in [
        act_recompute.ACTION,
        act_bad_debt.ACTION,
        act_retry.ACTION,
        *ACTIONS2,
        act_credits.GRANT,
        act_credits.REVOKE,
    ]
}
router = APIRouter(prefix="/accounts/{account_id}/actions/{slug}")
_NOT_ECHOED = {"csrf_token", "key"}


async def posted_form(request: Request) -> Form:
    """Every value of every posted field (the form is read once; Posted read it first)."""
    form = await request.form()
    values: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(name, []).append(value)
    return values


PostedForm = Annotated[Form, Depends(posted_form)]


@dataclass(frozen=True)
class Step:
    """One request of an action: who, which action, on which account; `page` renders it."""

    request: Request
    session: ConsoleSession
    container: Container
    action: Action
    account: AccountView

    def page(self, stage: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(
            self.request,
            self.action.template,
            self.session,
            status_code=status_code,
            action=self.action,
            account=self.account,
            stage=stage,
            **self.action.choices(self.container, self.account),
            **context,
        )

    def acting(self, key: str) -> Acting:
        """Refuses a principal without the route's scope."""
        return acting(self.request, self.session, self.container, self.action, key)


def step(
    request: Request, session: ConsoleSession, container: Container, account_id: UUID, slug: str
) -> Step:
    action = ACTIONS.get(slug)
    if action is None:
        text = f"The console has no action {slug}."
        raise ConsoleRefused(404, "No such action", text, session=session)
    with container.connection() as conn:
        account = get_account(conn, account_id)
    if account is None:
        text = f"No account has the id {account_id}."
        raise ConsoleRefused(404, "No such account", text, session=session)
    return Step(request, session, container, action, account)


def understood(run: Acting, form: Form) -> Parsed:
    """The action's parse of the form, with its reason, its path ids checked as the route
    checks them; Unclear (in words) otherwise."""
    reason = reason_of(form)
    try:
        return run.checked(run.action.parse(form, reason))
    except ValidationError as error:
        raise Unclear(*in_words(error)) from error


def _echo(form: Form) -> list[tuple[str, str]]:
    """The form's fields, carried by the confirmation page's form (hidden)."""
    return [(name, v) for name, values in form.items() if name not in _NOT_ECHOED for v in values]


def _unclear(at: Step, form: Form, unclear: Unclear) -> HTMLResponse:
    """The form again, with what it did not say clearly (nothing was done)."""
    errors = [str(arg) for arg in unclear.args]
    return at.page("form", 422, form=form, errors=errors)


@router.get("", name="console_action")
def form_page(
    request: Request, session: SignedIn, container: ContainerDep, account_id: UUID, slug: str
) -> HTMLResponse:
    return step(request, session, container, account_id, slug).page("form", form={})


@router.post("/review", name="console_action_review")
def review(
    request: Request,
    session: Posted,
    form: PostedForm,
    container: ContainerDep,
    account_id: UUID,
    slug: str,
) -> HTMLResponse:
    """The confirmation: what will happen, in words; its form carries a new key."""
    at = step(request, session, container, account_id, slug)
    key = str(uuid4())
    run = at.acting(key)
    try:
        parsed = understood(run, form)
    except Unclear as unclear:
        return _unclear(at, form, unclear)
    return at.page(
        "confirm",
        form=form,
        words=at.action.describe(container, at.account, parsed),
        reason=parsed.body.model_dump().get("reason"),
        echo=_echo(form),
        key=key,
    )


@router.post("/confirm", name="console_action_confirm")
def confirm(
    request: Request,
    session: Posted,
    form: PostedForm,
    container: ContainerDep,
    account_id: UUID,
    slug: str,
) -> HTMLResponse:
    """Runs the support route's handler once per key; the result page shows the outcome
    and the events the action recorded (a key sent again finds them and runs nothing)."""
    at = step(request, session, container, account_id, slug)
    run = at.acting(_key(form, session))
    try:
        parsed = understood(run, form)
    except Unclear as unclear:
        return _unclear(at, form, unclear)
    correlation_id = run.call.correlation_id
    done_before = recorded(container, account_id, correlation_id)
    if done_before:
        return at.page("repeated", events=done_before, correlation_id=correlation_id)
    try:
        outcome = run.run(account_id, parsed, session)
    except DomainError as refusal:
        events = recorded(container, account_id, correlation_id)
        return at.page(
            "refused",
            status_of(refusal),
            refusal=refusal,
            refusal_kind=_kind_in_words(refusal),
            events=events,
            correlation_id=correlation_id,
        )
    return at.page(
        "done",
        outcome=outcome,
        events=recorded(container, account_id, correlation_id),
        correlation_id=correlation_id,
        **at.action.present(outcome),
    )


def _kind_in_words(refusal: DomainError) -> str | None:
    """What sort of refusal it is (the error class's own words), when its message does not
    already say it: "timed out" alone does not say that the processor did not answer."""
    said = " ".join((type(refusal).__doc__ or "").split())
    return said if said and said != refusal.detail else None


def _key(form: Form, session: ConsoleSession) -> str:
    """The confirmation page's idempotency key: a UUID it made."""
    given = (form.get("key") or [""])[0]
    try:
        return str(UUID(given))
    except ValueError:
        raise ConsoleRefused(
            400,
            "This confirmation was not accepted",
            "It did not carry the key its confirmation page made, so nothing was done.",
            "Go back to the account and start the action again.",
            session=session,
        ) from None
