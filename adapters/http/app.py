"""The FastAPI application: the surfaces (adapters/http/surfaces.py), the processors'
webhooks, problem+json errors, health and metrics."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr

from adapters.bootstrap import Container
from adapters.http import openapi, problems, security
from adapters.http.auth import ApiKeys, Unauthenticated, bearer_token
from adapters.http.console import routes as console
from adapters.http.guards import RefuseControlCharacters
from adapters.http.ratelimit import RateLimiter
from adapters.http.routers import webhooks
from adapters.http.surface import router
from adapters.http.surfaces import SURFACES
from adapters.metrics import HTTP_LATENCY, HTTP_REQUESTS
from projections.feed import SupervisedFeed

_SURFACES = {f"{s.prefix}/": s.surface.value for s in SURFACES}  # the metrics' label
# Built once, at import, as decorated routes are: every app (and test) shares them.
_ROUTERS = tuple(router(surface) for surface in SURFACES)


def create_app(
    container: Container,
    api_keys: ApiKeys,
    rate_limiter: RateLimiter | None = None,
    address_limiter: RateLimiter | None = None,
    feed: SupervisedFeed | None = None,
) -> FastAPI:
    app = FastAPI(title="Billing ledger", version="0.1.0")
    settings = container.settings
    app.state.container = container
    app.state.api_keys = api_keys
    app.state.rate_limiter = rate_limiter or RateLimiter(settings.rate_limit, settings.redis_url)
    app.state.address_limiter = address_limiter or RateLimiter(
        settings.address_rate_limit, settings.redis_url, namespace="ledger:address"
    )
    problems.install(app)
    for surface_router in _ROUTERS:
        app.include_router(surface_router)
    app.include_router(webhooks.router)
    console.install(app, settings)
    app.add_middleware(RefuseControlCharacters)  # inside _correlate: counted and correlated
    app.middleware("http")(_correlate)
    app.add_api_route(
        "/healthz", _health(container, app.state.rate_limiter, feed), methods=["GET"], tags=["ops"]
    )
    if settings.metrics_token is not None:
        app.add_api_route(
            "/metrics", _metrics(settings.metrics_token), methods=["GET"], tags=["ops"]
        )
    security.install(app, settings, app.state.address_limiter)
    openapi.install(app)
    return app


def _surface(path: str) -> str:
    return next((s for prefix, s in _SURFACES.items() if path.startswith(prefix)), "ops")


async def _correlate(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Binds the correlation id (given or new) to every log line of the request."""
    given = request.headers.get("x-correlation-id")
    correlation_id = _parse_uuid(given) or uuid4()
    request.state.correlation_id = correlation_id
    structlog.contextvars.bind_contextvars(correlation_id=str(correlation_id))
    started = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        structlog.contextvars.unbind_contextvars("correlation_id")
    surface = _surface(request.url.path)
    HTTP_LATENCY.labels(surface).observe(time.perf_counter() - started)
    HTTP_REQUESTS.labels(surface, request.method, str(response.status_code)).inc()
    response.headers["X-Correlation-Id"] = str(correlation_id)
    return response


def _parse_uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def _health(
    container: Container, limiter: RateLimiter, feed: SupervisedFeed | None
) -> Callable[[], JSONResponse]:
    """Readiness: the database answers; Redis too when one is configured (`"redis": "down"`:
    rate limits then fail open and payment sessions answer 503); and, in the embedded mode,
    the store feed is running (not while it restarts after a failure: its state, restarts and
    last error). 503 when any of them is not ready."""

    def health() -> JSONResponse:
        with container.connection() as conn:
            conn.execute("SELECT 1")
        body: dict[str, object] = {"status": "ok"}
        ready = True
        if limiter.shared:
            redis_up = limiter.reachable()
            body["redis"] = "ok" if redis_up else "down"
            ready = ready and redis_up
        if feed is not None:
            state = feed.health()
            body["store_feed"] = {
                "state": state.state.value,
                "since": state.since.isoformat(),
                "restarts": state.restarts,
                "last_error": state.last_error,
            }
            ready = ready and state.ready
        if not ready:
            body["status"] = "unavailable"
        return JSONResponse(body, status_code=200 if ready else 503)

    return health


def _metrics(token: SecretStr) -> Callable[[Request], Response]:
    """Prometheus metrics on the API port only for a scraper presenting the token
    (`LEDGER_METRICS_TOKEN`); without it the route does not exist."""
    expected = token.get_secret_value().encode()

    def metrics(request: Request) -> Response:
        try:
            given = bearer_token(request).encode()
        except Unauthenticated:
            given = b""
        if not hmac.compare_digest(given, expected):
            raise Unauthenticated()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return metrics
