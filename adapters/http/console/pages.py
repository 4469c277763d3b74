"""Rendering console pages, and the refusals a console page answers with (HTML, never
problem+json: a person reads them)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from adapters.http.browser.refusals import Refused
from adapters.http.console.sessions import ConsoleSession
from adapters.http.console.words import WORDS
from adapters.pdf.invoice import format_money
from ledger.invoices import DisplayStatus
from queries.invoices import InvoiceSummary

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
_GOOD = {"healthy", "paid", "recovered", "open_account"}
_BAD = {"stuck", "bad_debt", "uncollectible", "past_due", "written_off"}
_MUTED = {"closed", "void", "draft"}


def tone(status: str) -> str:
    """The badge colour of a health state or an invoice's display status."""
    if status in _GOOD:
        return "good"
    if status in _BAD:
        return "bad"
    return "muted" if status in _MUTED else "warn"


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "\u2014"


def settled(invoice: InvoiceSummary) -> str:
    """How an invoice was settled, with every date that tells it: a recovered invoice says
    when it was marked uncollectible and when it was paid."""
    uncollectible, paid, voided = (
        when(invoice.marked_uncollectible_at),
        when(invoice.paid_at),
        when(invoice.voided_at),
    )
    return {
        DisplayStatus.PAID: f"paid {paid}",
        DisplayStatus.RECOVERED: f"uncollectible {uncollectible}, then paid {paid}",
        DisplayStatus.WRITTEN_OFF: f"uncollectible {uncollectible}, then voided {voided}",
        DisplayStatus.VOID: f"voided {voided}",
        DisplayStatus.UNCOLLECTIBLE: f"uncollectible since {uncollectible}",
    }.get(invoice.display_status, "\u2014")


TEMPLATES.env.globals.update(tone=tone, when=when, settled=settled, money=format_money)
TEMPLATES.env.globals.update(WORDS)


class ConsoleRefused(Refused):
    """A console request refused with a page that says why."""


def render(
    request: Request,
    template: str,
    session: ConsoleSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    page = {"session": session, "simulated": simulated(request), **context}
    return TEMPLATES.TemplateResponse(request, template, page, status_code=status_code)


def simulated(request: Request) -> bool:
    """The ledger charges through the simulated processor: every page says so."""
    container = getattr(request.app.state, "container", None)
    return container is not None and container.simulated is not None


def refused_page(request: Request, error: Exception) -> HTMLResponse:
    """The refusal as a page; to an htmx request (which swaps no error answer), an order to
    load the page whole, so the agent sees the refusal (e.g. a session that expired)."""
    assert isinstance(error, ConsoleRefused)
    response = render(
        request,
        "message.html",
        error.session,
        status_code=error.status,
        heading=error.heading,
        text=error.text,
        hint=error.hint,
        tone="bad",
    )
    if request.headers.get("hx-request") == "true":
        response.headers["HX-Refresh"] = "true"
    return response
