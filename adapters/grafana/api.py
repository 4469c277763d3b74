"""API: requests, errors and latency by surface and route, and the requests the rate limits
refused. Every series is counted by the API process that answered: summed over processes."""

from __future__ import annotations

from adapters.grafana.panels import Dashboard, Query, Section, panel

REQUESTS = "rate(billing_http_requests_total[$__rate_interval])"
BUCKETS = "rate(billing_http_request_duration_seconds_bucket[$__rate_interval])"


def dashboard() -> Dashboard:
    return Dashboard(
        uid="billing-api",
        title="Billing: API",
        description="Request rate, errors and latency per surface and route, and 429s "
        "(docs/observability.md, Dashboards).",
        sections=(_traffic(), _latency(), _limits()),
    )


def _traffic() -> Section:
    errors = 'rate(billing_http_requests_total{status=~"5.."}[$__rate_interval])'
    return Section(
        "Traffic and errors",
        (
            panel(
                "Requests per second by surface",
                "Answers served, every status included.",
                "reqps",
                Query(f"sum by (surface) ({REQUESTS})", "{{surface}}"),
            ),
            panel(
                "5xx ratio by surface",
                "Share of each surface's answers that were 5xx. Alert BillingApiErrorRatioHigh "
                "fires above 5% for 5 minutes.",
                "percentunit",
                Query(
                    f"sum by (surface) ({errors}) / sum by (surface) ({REQUESTS})", "{{surface}}"
                ),
            ),
            panel(
                "Errors per second by surface and status",
                "4xx and 5xx answers by surface and exact status.",
                "reqps",
                Query(
                    'sum by (surface, status) (rate(billing_http_requests_total{status=~"[45].."}'
                    "[$__rate_interval]))",
                    "{{surface}} {{status}}",
                ),
            ),
            panel(
                "Busiest routes",
                "The ten route templates with the most requests per second.",
                "reqps",
                Query(f"topk(10, sum by (surface, route) ({REQUESTS}))", "{{surface}} {{route}}"),
            ),
        ),
    )


def _latency() -> Section:
    return Section(
        "Latency",
        (
            panel(
                "Duration by surface (p50, p95, p99)",
                "From the request to the end of its answer.",
                "s",
                *(
                    Query(
                        f"histogram_quantile({q}, sum by (surface, le) ({BUCKETS}))",
                        f"{{{{surface}}}} p{round(q * 100)}",
                    )
                    for q in (0.5, 0.95, 0.99)
                ),
            ),
            panel(
                "Slowest routes (p95)",
                "The ten route templates with the highest 95th percentile.",
                "s",
                Query(
                    f"topk(10, histogram_quantile(0.95, sum by (surface, route, le) ({BUCKETS})))",
                    "{{surface}} {{route}}",
                ),
            ),
        ),
    )


def _limits() -> Section:
    return Section(
        "Rate limits",
        (
            panel(
                "429s per second by surface and limit",
                "Requests a rate limit refused, by the limit that refused them (address, "
                "principal, session).",
                "reqps",
                Query(
                    "sum by (surface, limit) "
                    "(rate(billing_rate_limited_requests_total[$__rate_interval]))",
                    "{{surface}} {{limit}}",
                ),
            ),
            panel(
                "429s per second by route, and unchecked requests",
                "Answers with status 429 by route; requests let through without a check "
                "because Redis could not be reached (the limits fail open).",
                "reqps",
                Query(
                    'sum by (surface, route) (rate(billing_http_requests_total{status="429"}'
                    "[$__rate_interval]))",
                    "{{surface}} {{route}}",
                ),
                Query(
                    "sum(rate(billing_rate_limit_unavailable_total[$__rate_interval]))",
                    "unchecked (Redis unreachable)",
                ),
            ),
        ),
    )
