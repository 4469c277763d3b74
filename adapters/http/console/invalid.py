"""A console request whose address or form FastAPI refuses (an over-long search, a page
link whose id is not one, a state the fleet does not know) answers a console page that says
what was wrong (adapters/http/browser/invalid.py), never the JSON surfaces' problem+json
422. Requests outside /console/ keep the app's own answer."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from adapters.http.browser import invalid
from adapters.http.console.access import FRONT
from adapters.http.console.pages import ConsoleRefused, refused_page

# What a person calls the console's parameters.
NAMES = {
    "q": "The search",
    "after": "The page link",
    "invoices": "The page link",
    "status": "The status filter",
    "state": "The health state",
    "account_id": "The account id",
    "invoice_id": "The invoice id",
}


def install(app: FastAPI, prefix: str) -> None:
    """Console requests get a page; the others, the handler the app had."""
    invalid.install(app, prefix, NAMES, invalid_request_page)


def invalid_request_page(request: Request, what: str) -> Response:
    refusal = ConsoleRefused(
        400,
        "This address is not one the console understands",
        f"Nothing was looked up or changed. {what}.",
        "Go back, or start again from the console's home page.",
        session=FRONT.session(request),  # the sign-in check ran before the refusal
    )
    response = refused_page(request, refusal)
    if "HX-Refresh" in response.headers and request.method == "GET":
        del response.headers["HX-Refresh"]  # the same address, loaded whole, shows this page
        response.headers["HX-Redirect"] = str(request.url)
    return response
