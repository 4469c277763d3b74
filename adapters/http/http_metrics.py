"""HTTP requests and their latency by surface, route template, method and status, for every
response: a 500 from a route that raised, a 429 of the address limit and a 404 of a path no
route knows included.

prometheus-fastapi-instrumentator's ASGI middleware does the measuring: it resolves the
route template (`/v1/accounts/{account_id}`, never the raw path; `none` for a path that no
route matches, so scans cannot grow the label set) through FastAPI's own routing, which it
follows across FastAPI's versions, and it records the status of a request whose route raised
as 500. It calls `_record`, which writes our metrics (adapters/metrics.py): a 429 is
counted once more by the limit that refused it, which the limiter named in the request's
state (adapters/http/ratelimit.py)."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_fastapi_instrumentator.metrics import Info
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware

from adapters.http.pay.links import PAY_PREFIX
from adapters.http.ratelimit import REFUSED_BY
from adapters.http.route_label import route_of
from adapters.http.security import HTTP_METHODS
from adapters.http.surfaces import SURFACES
from adapters.metrics import HTTP_LATENCY, HTTP_REQUESTS, RATE_LIMITED

# A route template's surface label: the JSON surfaces by their prefix, the browser fronts,
# the processors' webhooks; anything else (health, metrics, openapi, none) is `ops`.
PREFIXES: dict[str, str] = {
    **{s.prefix: s.surface.value for s in SURFACES},
    "/console": "console",
    "/billing": "billing",
    PAY_PREFIX: "pay",
    "/webhooks": "webhooks",
}


def install(app: FastAPI) -> None:
    """Call after security.install: the outermost of the app's middlewares, so it also
    counts what those answer themselves (a 429 of the address limit)."""
    app.add_middleware(
        PrometheusInstrumentatorMiddleware,
        should_group_status_codes=False,
        should_group_untemplated=True,
        instrumentations=[_record],
    )


def surface_of(route: str) -> str:
    return next(
        (s for prefix, s in PREFIXES.items() if route == prefix or route.startswith(f"{prefix}/")),
        "ops",
    )


def _record(info: Info) -> None:
    route = route_of(info.request)
    method = info.method if info.method.lower() in HTTP_METHODS else "other"
    surface = surface_of(route)
    HTTP_REQUESTS.labels(surface, route, method, info.modified_status).inc()
    HTTP_LATENCY.labels(surface, route, method, info.modified_status).observe(
        info.modified_duration
    )
    limit = info.request.scope.get("state", {}).get(REFUSED_BY)
    if info.modified_status == "429" and limit is not None:
        RATE_LIMITED.labels(surface, limit).inc()
