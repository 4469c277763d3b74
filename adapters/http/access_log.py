"""Every request's correlation id and its one access line. The id (the caller's
`X-Correlation-Id` when it is a UUID, else a new one) is bound to every log line of the
request and answered in the same header, a 500 included: a route that raises is logged with
its traceback and answered as the problem `internal_error` here, so the caller can quote
the id. The access line `http.request` says the method, the route template (never the raw
path: ids stay out of the logs), the status, the duration and the principal kind; probes
(/healthz, /readyz) log it at debug."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

import structlog
from fastapi import Request, Response

from adapters.http.problems import problem
from adapters.http.route_label import route_of

log = structlog.get_logger("http")
PROBES = frozenset({"/healthz", "/readyz"})


async def correlate_and_log(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    correlation_id = _parse_uuid(request.headers.get("x-correlation-id")) or uuid4()
    request.state.correlation_id = correlation_id
    structlog.contextvars.bind_contextvars(correlation_id=str(correlation_id))
    started = time.perf_counter()
    try:
        try:
            response = await call_next(request)
        except Exception as error:  # the route raised: logged here, answered with the id
            log.exception("http.unexpected_error", error=type(error).__name__)
            response = problem(500, "internal_error", "an unexpected error occurred")
        _access(request, response.status_code, time.perf_counter() - started)
    finally:
        structlog.contextvars.unbind_contextvars("correlation_id")
    response.headers["X-Correlation-Id"] = str(correlation_id)
    return response


def principal_kind_is(request: Request, kind: str) -> None:
    """Said by whatever authenticates the request (a key's route, a browser session)."""
    request.state.principal_kind = kind


def _access(request: Request, status: int, duration_s: float) -> None:
    # As the HTTP metrics label it, also for an answer a middleware gave before any route ran
    # (the address limit's 429).
    path = route_of(request)
    level = log.debug if request.url.path in PROBES else log.info
    level(
        "http.request",
        method=request.method,
        route=path,
        status=status,
        duration_ms=round(duration_s * 1000, 1),
        principal_kind=getattr(request.state, "principal_kind", None),
    )


def _parse_uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None
