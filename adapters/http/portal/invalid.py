"""A billing page request whose address or form is not one the pages understand answers a
page saying so (adapters/http/browser/invalid.py)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from adapters.http.browser import invalid
from adapters.http.portal.access import FRONT
from adapters.http.portal.pages import PortalRefused, refused_page

NAMES = {
    "invoice_id": "The invoice",
    "method_id": "The payment method",
    "subscription_id": "The subscription",
    "key": "The form",
    "v": "The page address",
    "token": "The link",
}


def install(app: FastAPI, prefix: str) -> None:
    invalid.install(app, prefix, NAMES, invalid_request_page)


def invalid_request_page(request: Request, what: str) -> Response:
    refusal = PortalRefused(
        400,
        "This address is not one we understand",
        f"Nothing was looked up or changed. {what}.",
        "Go back, or start again from your billing overview.",
        session=FRONT.session(request),
    )
    return refused_page(request, refusal)
