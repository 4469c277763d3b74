"""How the console acts: through the support surface, exactly as `/support` does.

An `Action` names the support route it runs (by operation name, e.g. `support_recompute`)
and says how a form becomes that route's path ids and body (`parse`), and what will happen
in words (`describe`). The console runs the very handler the JSON route runs
(`route.build(SUPPORT)`), with a `Call` for the signed-in support principal: the same
principal (resolved through the keys, as sign-in does), the same scope (a principal without
it is refused with a page), the same reason rule and the same audit (the events record the
NinjaPanel surface, the actor, the reason and the action's correlation id).

The idempotency key is made when the confirmation page is rendered and travels in the form;
the action's correlation id is derived from (principal, key), so a form sent twice finds
what the first sending recorded, and its command id makes the ledger record nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_type_hints
from uuid import UUID, uuid5

from fastapi import Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from adapters.bootstrap import Container
from adapters.http.auth import ApiKeys, Principal
from adapters.http.console.links import support_principal
from adapters.http.console.pages import ConsoleRefused
from adapters.http.console.sessions import ConsoleSession
from adapters.http.ratelimit import RateLimited
from adapters.http.surface import Call, handler_of, scope_of
from adapters.http.surfaces import SUPPORT
from queries.accounts import AccountView
from queries.audit import HistoryEntry, HistoryFilter, account_history

Form = Mapping[str, Sequence[str]]  # a posted form: every value of each field
_CORRELATION = UUID("0b7c2d55-4e8a-4f1b-9c3e-6a2d8e1f5b70")


class Unclear(Exception):
    """The form does not say what to do (in words, for the form page)."""


@dataclass(frozen=True)
class Parsed:
    """What a form asks: the support route's path ids (besides the account) and its body."""

    body: BaseModel
    path: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """One console action over one support route. `template` (action_<slug>.html, extending
    action_base.html) fills the form's fields and shows the outcome; `choices` loads what
    its form offers (invoices, methods, credits); `describe` says, for the confirmation,
    exactly what will happen; `present` shapes the handler's answer for the result page
    (which also gets it whole as `outcome`)."""

    slug: str
    operation: str  # the support route's operation name
    title: str
    parse: Callable[[Form, str], Parsed]  # (form, reason); raises Unclear or ValidationError
    describe: Callable[[Container, AccountView, Parsed], list[str]]
    choices: Callable[[Container, AccountView], dict[str, Any]] = lambda _c, _a: {}
    present: Callable[[Any], dict[str, Any]] = lambda _outcome: {}  # the outcome, for its page

    @property
    def template(self) -> str:
        return f"action_{self.slug}.html"


def one(form: Form, name: str) -> str:
    """A field's one value ("" when absent)."""
    values = form.get(name) or [""]
    return values[0].strip()


def reason_of(form: Form) -> str:
    reason = one(form, "reason")
    if not reason:
        raise Unclear("Give a reason: it is recorded with the action's events.")
    return reason


def in_words(error: ValidationError) -> list[str]:
    """A body the route's model refuses, field by field, in words."""
    said = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "the form"
        said.append(f"{where.replace('_', ' ')}: {problem['msg']}")
    return said


def support_handler(operation: str) -> Callable[..., Any]:
    """The handler the support JSON route `operation` runs."""
    return handler_of(SUPPORT, operation)


def acting_principal(request: Request, session: ConsoleSession, scope: str) -> Principal:
    """The session's support principal, as the keys know it now, if it has `scope`."""
    keys: ApiKeys = request.app.state.api_keys
    who = support_principal(keys, session.principal_id)
    if who is None or who.kind not in SUPPORT.kinds:
        raise ConsoleRefused(
            403, "Not a support principal", "The console answers only to support principals."
        )
    if scope not in who.scopes:
        raise ConsoleRefused(
            403,
            "You may not do this",
            f"This action needs the scope {scope}, which {who.id}'s keys do not have."
            " Nothing was done.",
            "Ask for a support key with that scope.",
            session=session,
        )
    return who


def correlation_for(who: Principal, key: str) -> UUID:
    """One action's correlation id: the same for the same principal and form key."""
    return uuid5(_CORRELATION, f"{who.id}\n{key}")


@dataclass(frozen=True)
class Acting:
    """An action about to run: its handler, and the Call the support route would get."""

    action: Action
    handler: Callable[..., Any]
    call: Call

    def checked(self, parsed: Parsed) -> Parsed:
        """The path ids as the route's own types read them (a 422 on the JSON side): a
        value they refuse is Unclear, in words."""
        hints = get_type_hints(self.handler, include_extras=True)
        said: list[str] = []
        for name, value in parsed.path.items():
            try:
                TypeAdapter(hints[name]).validate_python(value)
            except ValidationError as error:
                said += [f"{name.replace('_', ' ')}: {e['msg']}" for e in error.errors()]
        if said:
            raise Unclear(*said)
        return parsed

    def run(self, account_id: UUID, parsed: Parsed, session: ConsoleSession) -> Any:
        """The handler, counted against the principal's rate limit as its route is."""
        who = self.call.who
        try:
            request = self.call.request
            request.app.state.rate_limiter.check(f"{who.kind.value}:{who.id}", request.scope)
        except RateLimited as limited:
            raise ConsoleRefused(
                429,
                "Too many requests",
                f"{who.id} has made too many requests; nothing was done.",
                f"Try again in {limited.retry_after_s} s.",
                session=session,
            ) from limited
        return self.handler(account_id=account_id, body=parsed.body, call=self.call, **parsed.path)


def acting(
    request: Request,
    session: ConsoleSession,
    container: Container,
    action: Action,
    key: str,
) -> Acting:
    handler = support_handler(action.operation)
    who = acting_principal(request, session, scope_of(handler))
    call = Call(who, container, SUPPORT, correlation_for(who, key), request, key)
    return Acting(action, handler, call)


def recorded(container: Container, account_id: UUID, correlation_id: UUID) -> list[HistoryEntry]:
    """The events an action recorded on the account, read back from the store."""
    where = HistoryFilter(correlation_id=correlation_id)
    with container.connection() as conn:
        page = account_history(
            conn, account_id, container.reader.decode_rows, limit=500, where=where
        )
    return page.entries
