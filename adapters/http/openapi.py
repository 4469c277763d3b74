"""The OpenAPI document, finished in one place after FastAPI generates it (the routes stay as
they are): the bearer security scheme (so /docs can authorize), the problem+json answers
each operation can give, a summary and description per operation, examples on bodies.

* Summaries and descriptions come from OPERATIONS, keyed by method and path without the
  surface prefix (`/v1`, `/internal`, `/support`): the surfaces' routes carry their own
  (adapters/http/surface.py `Route`), the webhooks and ops routes are listed here; the
  surface's own rules (who may call, reasons, own account: `HttpSurface.doc`) are added per
  surface. tests/unit/test_openapi.py fails when an operation has no entry.
* Problem answers are derived from the operation: its surface (401, 403, 429), path
  parameters (404), a method it vaults (402), a write (409), parameters or a body (422,
  replacing FastAPI's validation schema), an idempotency key it requires (428), a
  processor, Turnstile or Redis it needs (503).
* Body examples are built from each body's schema: its required fields, with the values of
  FIELD_EXAMPLES (tests validate every example against its model).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.http import surfaces
from adapters.http.surface import documented

Doc = dict[str, Any]
BEARER = "bearerAuth"
PROBLEM = "application/problem+json"
SURFACES = {surface.prefix: surface.doc for surface in surfaces.SURFACES}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Operations that refuse to run without an Idempotency-Key header (428).
KEY_REQUIRED = frozenset(
    {"/accounts/{account_id}/pay-bad-debt", "/accounts/{account_id}/payments/{attempt_id}/refunds"}
)
# Path segments of operations that call a processor, Turnstile or Redis (503 when down).
NEEDS_OUTSIDE = (
    "in-flight",
    "pay",
    "pay-bad-debt",
    "payment-sessions",
    "payment-methods",
    "refunds",
    "provider-customers",
    "reconciliation",
    "subscriptions",
    "webhooks",
)
# Path segments of operations that vault a method: the processor may decline it (402).
VAULTS = frozenset({"payment-methods", "payment-sessions"})
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("invalid_signature", "The request is not a valid signed notification."),
    402: ("payment_method_declined", "The processor declined the payment method."),
    401: ("unauthenticated", "No API key, or a key that is unknown, expired or revoked."),
    403: ("forbidden", "This key's kind or scopes do not allow this operation."),
    404: ("account_not_found", "No such resource (or not this caller's)."),
    409: (
        "account_closed",
        "The request conflicts with the account's state, or an "
        "idempotency key was reused with another request.",
    ),
    422: ("invalid_request", "A parameter or the body is not valid."),
    428: ("command_id_required", "This operation needs an Idempotency-Key header."),
    429: ("rate_limited", "Too many requests: retry after `Retry-After` seconds."),
    503: (
        "processor_unavailable",
        "A processor, the bot check or the session store cannot be reached now; retry later.",
    ),
}

FIELD_EXAMPLES: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "payer_email": "ada@example.com",
    "country": "GB",
    "currency": "GBP",
    "tax_id": "GB123456789",
    "reason": "Customer asked by phone (ticket 4242)",
    "amount": 1500,
    "days": 1,
    "plan_id": "pro-monthly-gbp",
    "method": "card",
    "processor": "stripe",
    "processor_ref": "pm_1Pexample",
    "payment_method": "pm_1Pexample",
    "brand": "visa",
    "last4": "4242",
    "exp_month": 12,
    "exp_year": 2030,
    "turnstile_token": "0.turnstile-token-from-the-widget",
    "nonce": "paypal-nonce-from-the-drop-in",
    "token": "braintree-paypal-token",
    "new_token": "braintree-paypal-token-2",
    "billing_agreement_id": "B-5YM12345AB678901C",
    "customer_id": "cus_Pexample",
    "reference": "pi_3Pexample",
    "action": "push-customer",
    "account_ids": ["0b0f7e0e-6b7c-4e8a-9d3c-2f1a5e4b7c6d"],
}


def _op(summary: str, description: str) -> tuple[str, str]:
    return summary, description


# The surfaces' operations are documented with their routes (adapters/http/surface.py
# `Route`); the others here.
OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    **documented(tuple(f for surface in surfaces.SURFACES for f in surface.features)),
    ("POST", "/webhooks/stripe"): _op(
        "Stripe webhook",
        "Stripe's signed events: payment "
        "outcomes, refunds, disputes, customer changes. Signature "
        "checked with the endpoint secret; limited per address.",
    ),
    ("POST", "/webhooks/braintree"): _op(
        "Braintree webhook",
        "Braintree's signed "
        "notifications (form fields `bt_signature`, "
        "`bt_payload`); limited per address.",
    ),
    ("GET", "/healthz"): _op("Liveness", "200 while the process answers; it checks nothing else."),
    ("GET", "/readyz"): _op(
        "Readiness",
        "200 when the database, a configured Redis and Kafka answer, the store feed runs"
        " (embedded) and no projection is poisoned or too far behind; 503 with each check's"
        " answer otherwise.",
    ),
    ("GET", "/contract/asyncapi.json"): _op(
        "Event contract (AsyncAPI 3.0)",
        "The AsyncAPI document of the event topic: channel, key, headers, every event type and"
        " version; its payload `$ref`s are relative (`schemas/<name>.json`). No key needed.",
    ),
    ("GET", "/contract/schemas/{name}"): _op(
        "Event schema (JSON Schema 2020-12)",
        "One message schema, `<event_type>.v<version>.json`, or the envelope's,"
        " `envelope.v1.json`. No key needed.",
    ),
    ("GET", "/metrics"): _op(
        "Prometheus metrics", "Served only with LEDGER_METRICS_TOKEN, to a bearer of that token."
    ),
}


def install(app: FastAPI) -> None:
    """Replaces app.openapi with the finished document (built once, then cached)."""

    def openapi() -> Doc:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
            app.openapi_schema = finish(doc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def finish(doc: Doc) -> Doc:
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`ledger keys new`): `Authorization: Bearer lk_...`.",
    }
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            _finish_operation(method, path, operation, schemas)
    _drop_unused_schemas(doc, ("HTTPValidationError", "ValidationError"))
    return doc


def surface_of(path: str) -> str | None:
    return next((p for p in SURFACES if path.startswith(p + "/")), None)


def operation_key(method: str, path: str) -> tuple[str, str]:
    surface = surface_of(path)
    return method.upper(), path[len(surface) :] if surface else path


def _finish_operation(method: str, path: str, operation: Doc, schemas: Doc) -> None:
    surface = surface_of(path)
    summary, description = OPERATIONS.get(operation_key(method, path), ("", ""))
    operation["summary"] = summary
    operation["description"] = " ".join(filter(None, (description, SURFACES.get(surface or ""))))
    if surface or path == "/metrics":
        operation["security"] = [{BEARER: []}]
    responses = operation.setdefault("responses", {})
    for status in problem_statuses(method, path, operation):
        responses[str(status)] = _problem_response(status)
    if path == "/readyz":
        responses["503"] = {"description": 'Not ready: what is down, e.g. `"redis": "down"`.'}
    operation["responses"] = dict(sorted(responses.items()))
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        body["example"] = _body_example(body["schema"], schemas, surface)


def _body_example(schema: Doc, schemas: Doc, surface: str | None) -> Any:
    """Support writes need a reason even where the body's schema leaves it optional."""
    example = example_of(schema, schemas)
    resolved = schemas[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
    if surface == "/support" and "reason" in resolved.get("properties", {}):
        example["reason"] = FIELD_EXAMPLES["reason"]
    return example


def problem_statuses(method: str, path: str, operation: Doc) -> list[int]:
    surface = surface_of(path)
    relative = operation_key(method, path)[1]
    segments = set(relative.split("/"))
    webhook = path.startswith("/webhooks/")
    rules: list[tuple[int, bool]] = [
        (400, webhook),
        (401, surface is not None or path == "/metrics"),
        (402, surface is not None and method == "post" and bool(segments & VAULTS)),
        (403, surface is not None),
        (404, "{" in path or webhook),
        (409, surface is not None and method in WRITE_METHODS),
        (422, bool(operation.get("parameters") or operation.get("requestBody"))),
        (428, surface is not None and relative in KEY_REQUIRED),
        (429, surface is not None or webhook),
        (503, webhook or bool(segments & set(NEEDS_OUTSIDE))),
    ]
    return [status for status, applies in rules if applies]


def _problem_response(status: int) -> Doc:
    code, description = PROBLEMS[status]
    example = {
        "type": f"urn:billing-ledger:problem:{code}",
        "title": code.replace("_", " "),
        "status": status,
        "code": code,
        "detail": description,
    }
    if status == 422:
        example["errors"] = [{"loc": ["body", "currency"], "msg": "String should match pattern"}]
    response: Doc = {
        "description": description,
        "content": {
            PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}
        },
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
        }
    return response


PROBLEM_SCHEMA: Doc = {
    "title": "Problem",
    "description": "RFC 9457 problem details with a stable `code`.",
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable, machine-readable"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "422 only: what is invalid, where",
            "items": {
                "type": "object",
                "properties": {"loc": {"type": "array", "items": {}}, "msg": {"type": "string"}},
            },
        },
    },
}


def example_of(schema: Doc, schemas: Doc, name: str | None = None) -> Any:
    """An example value for `schema`: FIELD_EXAMPLES by property name first, then by type."""
    if name in FIELD_EXAMPLES:
        return FIELD_EXAMPLES[name]
    if "$ref" in schema:
        return example_of(schemas[schema["$ref"].rsplit("/", 1)[1]], schemas, name)
    if "anyOf" in schema:
        first = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return example_of(first, schemas, name)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    by_type: dict[str, Callable[[], Any]] = {
        "object": lambda: {
            prop: example_of(sub, schemas, prop)
            for prop, sub in schema.get("properties", {}).items()
            if prop in schema.get("required", ())
        },
        "array": lambda: [example_of(schema.get("items", {}), schemas)],
        "string": lambda: _string_example(schema),
        "integer": lambda: max(int(schema.get("minimum", 1)), 1),
        "boolean": lambda: True,
    }
    return by_type.get(schema.get("type", "object"), lambda: None)()


def _string_example(schema: Doc) -> str:
    formats = {
        "email": "ada@example.com",
        "uuid": "0b0f7e0e-6b7c-4e8a-9d3c-2f1a5e4b7c6d",
        "date-time": "2026-01-31T12:00:00Z",
        "date": "2026-01-31",
    }
    return formats.get(schema.get("format", ""), "example")


def _drop_unused_schemas(doc: Doc, names: tuple[str, ...]) -> None:
    schemas = doc["components"]["schemas"]
    for name in names:
        text = repr({k: v for k, v in doc.items() if k != "components"}) + repr(
            {k: v for k, v in schemas.items() if k != name}
        )
        if re.search(rf"#/components/schemas/{name}'", text) is None:
            schemas.pop(name, None)
