"""The FastAPI application: the surfaces (adapters/http/surfaces.py), the processors'
webhooks, problem+json errors, health and metrics."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from pydantic import SecretStr

from adapters.bootstrap import Container
from adapters.business_metrics import BusinessMetrics, business_registry
from adapters.flow_metrics import FlowMetrics
from adapters.http import http_metrics, openapi, problems, security
from adapters.http.access_log import correlate_and_log
from adapters.http.auth import ApiKeys, Unauthenticated, bearer_token
from adapters.http.console import access as console_access
from adapters.http.console import routes as console
from adapters.http.guards import RefuseControlCharacters
from adapters.http.pay import page as pay_page
from adapters.http.portal import access as portal_access
from adapters.http.portal import routes as portal
from adapters.http.ratelimit import RateLimiter
from adapters.http.routers import contract, webhooks
from adapters.http.surface import router
from adapters.http.surfaces import SURFACES
from adapters.pipeline_metrics import pipeline_metrics
from adapters.readiness import readiness
from projections.feed import SupervisedFeed

# Built once, at import, as decorated routes are: every app (and test) shares them.
_ROUTERS = tuple(router(surface) for surface in SURFACES)
_SCRAPE_CONNECTION_WAIT_S = 2.0


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
        settings.address_rate_limit, settings.redis_url, namespace="ledger:address", name="address"
    )
    problems.install(app)
    for surface_router in _ROUTERS:
        app.include_router(surface_router)
    app.include_router(webhooks.router)
    contract.install(app, settings.topic)
    console.install(app, settings)
    pay_page.install(app)
    portal.install(app, settings)
    app.add_middleware(RefuseControlCharacters)  # inside correlate_and_log: correlated
    app.add_api_route("/healthz", _live, methods=["GET"], tags=["ops"])
    app.add_api_route(
        "/readyz", _ready(container, app.state.rate_limiter, feed), methods=["GET"], tags=["ops"]
    )
    if settings.metrics_token is not None:
        business = business_registry(_business_metrics(container))
        business.register(pipeline_metrics(container, _SCRAPE_CONNECTION_WAIT_S))
        business.register(_flow_metrics(container))
        app.add_api_route(
            "/metrics", _metrics(settings.metrics_token, business), methods=["GET"], tags=["ops"]
        )
    fronts = (console_access.FRONT, portal_access.FRONT)
    security.install(app, settings, app.state.address_limiter, {f.path: f.cookie for f in fronts})
    # Outside security's middlewares: the answers they give themselves (the address limit's
    # 429) get a correlation id and their access line too.
    app.middleware("http")(correlate_and_log)
    http_metrics.install(app)  # outermost: counts every answer, those of security's too
    openapi.install(app)
    return app


def _live() -> JSONResponse:
    """Liveness: the process answers. Nothing else is checked (readiness is /readyz): a
    database outage must not get every replica restarted."""
    return JSONResponse({"status": "ok"})


def _ready(
    container: Container, limiter: RateLimiter, feed: SupervisedFeed | None
) -> Callable[[], JSONResponse]:
    """Readiness (adapters/readiness.py): 200 with each check's answer, 503 when one fails."""

    def ready() -> JSONResponse:
        ok, body = readiness(container, limiter, feed, container.deps.clock.now())
        return JSONResponse(body, status_code=200 if ok else 503)

    return ready


def _business_metrics(container: Container) -> BusinessMetrics:
    """The business state read for the scrapes, through the read-model pool: a scrape waits
    for a connection at most `_SCRAPE_CONNECTION_WAIT_S` (a stopped database fails fast)."""
    return BusinessMetrics(
        lambda: container.pool.connection(timeout=_SCRAPE_CONNECTION_WAIT_S),
        lambda: container.deps.clock.now(),  # the container's clock at each read
        ttl_s=container.settings.metrics_cache_s,
    )


def _flow_metrics(container: Container) -> FlowMetrics:
    """The business flow counters read for the scrapes, as the business state is."""
    return FlowMetrics(
        lambda: container.pool.connection(timeout=_SCRAPE_CONNECTION_WAIT_S),
        ttl_s=container.settings.metrics_cache_s,
    )


def _metrics(token: SecretStr, business: CollectorRegistry) -> Callable[[Request], Response]:
    """Prometheus metrics on the API port only for a scraper presenting the token
    (`LEDGER_METRICS_TOKEN`); without it the route does not exist. The process's own metrics
    (HTTP, pipeline), then this app's business state, pipeline state and business flow read
    at scrape time (adapters/business_metrics.py, pipeline_metrics.py, flow_metrics.py)."""
    expected = token.get_secret_value().encode()

    def metrics(request: Request) -> Response:
        try:
            given = bearer_token(request).encode()
        except Unauthenticated:
            given = b""
        if not hmac.compare_digest(given, expected):
            raise Unauthenticated()
        exposed = generate_latest(REGISTRY) + generate_latest(business)
        return Response(exposed, media_type=CONTENT_TYPE_LATEST)

    return metrics
