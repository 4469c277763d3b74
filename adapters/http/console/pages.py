"""Rendering console pages, and the refusals a console page answers with (HTML, never
problem+json: a person reads them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from adapters.http.console.sessions import ConsoleSession

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


class ConsoleRefused(Exception):
    """A console request refused with a page that says why."""

    def __init__(self, status: int, heading: str, text: str, hint: str | None = None) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.text = text
        self.hint = hint


def render(
    request: Request,
    template: str,
    session: ConsoleSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(
        request, template, {"session": session, **context}, status_code=status_code
    )


def refused_page(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, ConsoleRefused)
    return render(
        request,
        "message.html",
        None,
        status_code=error.status,
        heading=error.heading,
        text=error.text,
        hint=error.hint,
        tone="bad",
    )
