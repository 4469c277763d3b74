"""The account's history in the console: its events newest first (who, kind, surface, why,
correlation, hash and the facts in words), filtered by type, time and request, in keyset
pages; and the account as of any moment or event. Both read the event store through
queries.audit, as the support JSON routes do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from adapters.bootstrap import Container
from adapters.http.common import ContainerDep
from adapters.http.console.access import SignedIn
from adapters.http.console.as_of import as_of
from adapters.http.console.moments import UnreadableMoment, moment, through
from adapters.http.console.pages import ConsoleRefused, render
from adapters.http.console.sessions import ConsoleSession
from adapters.http.console.timeline import Facts, in_words
from commands.base import load_account
from commands.errors import AccountNotFound
from ledger.account import Account
from queries.audit import (
    HistoryEntry,
    HistoryFilter,
    account_history,
    event_types_present,
    recent_history,
    version_at,
)

router = APIRouter(include_in_schema=False)
EVENTS_PER_PAGE = 25
# Every parameter is read as text and checked here, so a mistyped address is answered with
# a page that says what is wrong, never FastAPI's JSON 422.
Text = Annotated[str, Query(max_length=100)]
EventTypes = Annotated[list[str], Query(alias="type", max_length=40)]


@router.get("/accounts/{account_id}/history", name="console_history")
def history(
    request: Request,
    session: SignedIn,
    container: ContainerDep,
    account_id: str,
    types: EventTypes = [],  # noqa: B006 (FastAPI copies the default)
    since: Text = "",
    until: Text = "",
    correlation: Text = "",
    before: Text = "",
) -> HTMLResponse:
    """Newest first; `before` (a version) is the keyset of the next, older page."""
    account = _account(container, account_id, session)
    stream = account.id
    where = _filter(session, set(types), since, until, correlation)
    with container.connection() as conn:
        page = recent_history(
            conn,
            stream,
            container.reader.decode_rows,
            before_version=_version(session, "before", before),
            limit=EVENTS_PER_PAGE,
            where=where,
        )
        present = event_types_present(conn, stream)
    kept = _kept(types, since, until, correlation)
    return render(
        request,
        "history.html",
        session,
        account=account,
        page=page,
        facts=Facts(account),
        in_words=in_words,
        exact=exact,
        present=present,
        chosen=set(types),
        since=since,
        until=until,
        correlation=where.correlation_id,
        before=before,
        kept=kept,
    )


@router.get("/accounts/{account_id}/as-of", name="console_as_of")
def account_as_of(
    request: Request,
    session: SignedIn,
    container: ContainerDep,
    account_id: str,
    at: Text = "",
    version: Text = "",
) -> HTMLResponse:
    """At a moment (`at`, UTC), or right after one event (`version`, from the timeline)."""
    latest = _account(container, account_id, session)
    stream = latest.id
    at_moment = _moment(session, "at", at) if at else None
    chosen = _version(session, "version", version)
    with container.connection() as conn:
        first = _event(container, conn, stream, 1)
        if chosen is None and at_moment is not None:
            last = through(at)  # typed to the minute or second: all of it
            chosen = version_at(conn, stream, container.reader.decode_rows, last)
        chosen = min(chosen, latest.version) if chosen else None
        event = _event(container, conn, stream, chosen) if chosen else None
    context: dict[str, Any] = {"account": latest, "first": first, "at": at, "moment": at_moment}
    if event is not None:
        loaded: Account = container.app.repository.get(stream, version=event.stream_version)
        context["state"] = as_of(loaded, at_moment or event.occurred_at, event)
    return render(request, "as_of.html", session, in_words=in_words, exact=exact, **context)


def exact(instant: datetime) -> str:
    """To the second: events of one request share a minute, and the filters take seconds."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _account(container: Container, account_id: str, session: ConsoleSession) -> Account:
    """The account as it is now (its name for the page, and what its ids stand for); the id
    is read as text, so a mistyped one is answered as an unknown account."""
    try:
        return load_account(container.app, UUID(account_id))
    except (ValueError, AccountNotFound):
        text = f"No account has the id {account_id}."
        raise ConsoleRefused(404, "No such account", text, session=session) from None


def _event(container: Container, conn: Any, account_id: UUID, version: int) -> HistoryEntry:
    page = account_history(
        conn, account_id, container.reader.decode_rows, after_version=version - 1, limit=1
    )
    return page.entries[0]


def _filter(
    session: ConsoleSession,
    types: set[str],
    since: str,
    until: str,
    correlation: str,
) -> HistoryFilter:
    start = _moment(session, "since", since) if since else None
    end = _moment(session, "until", until, through) if until else None
    request = _uuid(session, "correlation", correlation) if correlation else None
    try:
        return HistoryFilter(types=frozenset(types), since=start, until=end, correlation_id=request)
    except ValidationError:
        text = "The 'since' moment is after the 'until' moment."
        raise ConsoleRefused(400, "These dates cannot be used", text, session=session) from None


def _moment(
    session: ConsoleSession, name: str, text: str, read: Callable[[str], datetime] = moment
) -> datetime:
    try:
        return read(text)
    except UnreadableMoment:
        detail = f"'{name}' should be a date and time like 2026-01-31T09:30, in UTC."
        raise ConsoleRefused(400, "This date cannot be read", detail, session=session) from None


def _version(session: ConsoleSession, name: str, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        detail = f"'{name}' should be an event's version: a whole number from 1."
        raise ConsoleRefused(400, "This page link is broken", detail, session=session)
    return int(text)


def _uuid(session: ConsoleSession, name: str, text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        detail = f"'{name}' should be a request's correlation id (a UUID)."
        raise ConsoleRefused(400, "This page link is broken", detail, session=session) from None


def _kept(types: list[str], since: str, until: str, correlation: str) -> list[tuple[str, str]]:
    """The filter as query pairs, so a page link keeps it."""
    pairs = [("type", t) for t in types] + [("since", since), ("until", until)]
    pairs.append(("correlation", correlation))
    return [(k, v) for k, v in pairs if v]
