"""Rendering the billing pages, and the refusals they answer with (a page a customer reads:
plain words, no internal codes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from adapters.http.browser.refusals import Refused
from adapters.http.browser.sessions import BrowserSession
from adapters.http.console.words import every, method_name
from adapters.http.return_urls import return_origins
from adapters.http.security import PAGES_CSP
from adapters.pdf.invoice import format_money

Version = Annotated[int | None, Query(ge=0, le=2**62)]  # a write to wait for: read-your-writes

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def day(moment: datetime | None) -> str:
    """A date as a customer reads it: 4 December 2026."""
    if moment is None:
        return "\u2014"
    local = moment.astimezone(UTC)
    return f"{local.day} {local:%B %Y}"


# The pages in the header's navigation: (route name, label), in order.
SECTIONS: list[tuple[str, str]] = [
    ("portal_overview", "Overview"),
    ("portal_methods", "Payment methods"),
    ("portal_invoices", "Invoices"),  # invoices.py
    ("portal_plan", "Plan"),  # plan.py
]
TEMPLATES.env.globals.update(
    money=format_money, day=day, sections=SECTIONS, every=every, method_name=method_name
)


class PortalRefused(Refused):
    """A billing page or action refused with a page that says why, in a customer's words."""


def render(
    request: Request,
    template: str,
    session: BrowserSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    page = {"session": session, **context}
    response = TEMPLATES.TemplateResponse(request, template, page, status_code=status_code)
    response.headers["Content-Security-Policy"] = csp(request)
    return response


def csp(request: Request) -> str:
    """The pages' policy (PAGES_CSP), whose forms may also lead to the allowed return
    origins: sign-out sends the customer back to the Dashboard, and a form's redirect is
    governed by form-action."""
    allowed = " ".join(return_origins(request.app.state.container.settings))
    return PAGES_CSP.replace("form-action 'self'", f"form-action 'self' {allowed}".rstrip())


def refused_page(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, PortalRefused)
    return render(
        request,
        "message.html",
        error.session,
        status_code=error.status,
        heading=error.heading,
        text=error.text,
        hint=error.hint,
        tone="bad",
    )
