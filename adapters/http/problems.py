"""Errors as problem+json (RFC 9457) with a stable `code`.

A domain error's status comes from its kind, in STATUSES, the one table of them; an edge
error (authentication, rate limits, webhook deliveries: refusals of the HTTP request
itself, never of a command) carries its own."""

from __future__ import annotations

from typing import Any, ClassVar, Final

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from ledger.errors import DomainError, ErrorKind

log = structlog.get_logger("http")
PROBLEM = "application/problem+json"

# Each kind's status, and the few codes of that kind HTTP answers otherwise: both are about
# the HTTP request's own form (a cursor the edge issued, a header the route requires), which
# the domain does not know of. docs/errors.md lists them, with every code and its answer.
STATUSES: Final[dict[ErrorKind, tuple[int, dict[str, int]]]] = {
    ErrorKind.INVALID: (422, {"invalid_cursor": 400, "idempotency_key_required": 428}),
    ErrorKind.NOT_FOUND: (404, {}),
    ErrorKind.CONFLICT: (409, {}),
    ErrorKind.REFUSED: (409, {}),
    ErrorKind.FORBIDDEN: (403, {}),
    ErrorKind.DECLINED: (402, {}),
    ErrorKind.UNAVAILABLE: (503, {}),
}


def status_of(error: DomainError) -> int:
    usual, by_code = STATUSES[error.kind]
    return by_code.get(error.code, usual)


class EdgeError(Exception):
    """The HTTP edge refuses the request before any command: who is calling (401, 403), how
    often (429), a webhook delivery it cannot trust or read (400). Never a DomainError."""

    code: ClassVar[str]
    http_status: ClassVar[int]
    retry_after_s: int | None = None

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or (self.__doc__ or self.code).strip()
        super().__init__(self.detail)


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:billing-ledger:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return _with_retry_after(problem(status_of(exc), exc.code, exc.detail), exc)


async def _edge(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EdgeError)
    return _with_retry_after(problem(exc.http_status, exc.code, exc.detail), exc)


def _with_retry_after(response: JSONResponse, exc: Exception) -> JSONResponse:
    retry_after_s = getattr(exc, "retry_after_s", None)  # rate limits, requests in flight
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return problem(422, "invalid_request", "the request is not valid", errors=errors)


async def _command_validation(_: Request, exc: Exception) -> JSONResponse:
    """A command (or query filter) a route built from valid-looking input that its own model
    refuses: the request is what is wrong, never the server. A safety net: routes type their
    parameters with the command models' types so FastAPI refuses most of this first."""
    assert isinstance(exc, ValidationError)
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return problem(422, "invalid_request", "the request is not valid", errors=errors)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return problem(exc.status_code, code, str(exc.detail))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("http.unexpected_error", error=type(exc).__name__)
    return problem(500, "internal_error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(EdgeError, _edge)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ValidationError, _command_validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
