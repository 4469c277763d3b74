"""A front end's request whose address or form FastAPI refuses (an id that is not one, an
over-long value) answers that front end's page saying what was wrong, never the JSON
surfaces' problem+json 422. Requests outside its prefix keep the answer the app had."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
Page = Callable[[Request, str], Response]  # (request, what was wrong in words) -> its page


def install(app: FastAPI, prefix: str, names: Mapping[str, str], page: Page) -> None:
    """`names`: what a person calls the front end's parameters."""
    answered_before: Handler = app.exception_handlers[RequestValidationError]

    async def answer(request: Request, error: Exception) -> Response:
        if request.url.path.startswith(f"{prefix}/") and isinstance(error, RequestValidationError):
            return page(request, "; ".join(in_words(e, names) for e in error.errors()))
        answered = answered_before(request, error)
        return answered if isinstance(answered, Response) else await answered

    app.add_exception_handler(RequestValidationError, answer)


def in_words(error: dict[str, object], names: Mapping[str, str]) -> str:
    loc = error.get("loc") or ()
    name = str(loc[-1]) if isinstance(loc, list | tuple) and loc else "the request"
    msg = str(error.get("msg", "not valid"))
    return f"{names.get(name, name)}: {msg[:1].lower()}{msg[1:]}"
