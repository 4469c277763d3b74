"""The OpenAPI document, finished in one place after FastAPI generates it (the routes stay as
they are): the bearer security scheme (so /docs can authorize), the problem+json answers
each operation can give, a summary and description per operation, examples on bodies.

* Summaries and descriptions come from OPERATIONS, keyed by method and path without the
  surface prefix (`/v1`, `/internal`, `/support`); the surface's own rules (who may call,
  reasons, own account) are added per surface. tests/unit/test_openapi.py fails when an
  operation has no entry.
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

Doc = dict[str, Any]
BEARER = "bearerAuth"
PROBLEM = "application/problem+json"
SURFACES = {
    "/v1": "Dashboard surface: a customer key (its own account only; another account's path "
    "answers 404).",
    "/internal": "iAPI surface: a service key.",
    "/support": "NinjaPanel surface: a support key; every write needs a `reason`, recorded "
    "on its events.",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
# Operations that refuse to run without an Idempotency-Key header (428).
KEY_REQUIRED = frozenset(
    {"/accounts/{account_id}/pay-bad-debt", "/accounts/{account_id}/payments/{attempt_id}/refunds"}
)
# Path segments of operations that call a processor, Turnstile or Redis (503 when down).
NEEDS_OUTSIDE = (
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


ACC = "/accounts/{account_id}"
OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", ACC): _op(
        "Get an account",
        "The account's profile and status from the read "
        "model; `min_version` waits (bounded) for a write to be applied.",
    ),
    ("PATCH", ACC): _op(
        "Change the billing profile",
        "Changes name, email, country, "
        "currency or tax id; the processors' customers are updated after.",
    ),
    ("POST", f"{ACC}/close"): _op(
        "Close the account",
        "Closes the account: no more billing; a closed account refuses changes with 409.",
    ),
    ("POST", "/accounts"): _op(
        "Open an account",
        "Opens a billing account and creates its "
        "processor customers. An Idempotency-Key makes a retry safe.",
    ),
    ("GET", "/accounts"): _op("List accounts", "The newest accounts from the read model."),
    ("POST", f"{ACC}/recompute"): _op(
        "Recompute an account's read models",
        "Replays the "
        "account's events into every read model; answers what "
        "changed, before and after.",
    ),
    ("GET", f"{ACC}/history"): _op(
        "Account event history",
        "The account's events, newest first, filtered by type and time, a page at a time.",
    ),
    ("GET", f"{ACC}/as-of"): _op(
        "Account state as of a moment",
        "The account as it was at the given time, replayed from its events.",
    ),
    ("GET", f"{ACC}/health"): _op(
        "Account health",
        "Collection state, stuck attempts, bad debt and the action required, if any.",
    ),
    ("GET", "/health/fleet"): _op(
        "Fleet health", "Accounts by health state and bad debt per currency."
    ),
    ("GET", "/health"): _op("Fleet health", "Accounts by health state and bad debt per currency."),
    ("GET", f"{ACC}/reconciliation"): _op(
        "Last reconciliation", "What the last comparison of the account with the processors found."
    ),
    ("POST", f"{ACC}/reconciliation"): _op(
        "Reconcile now", "Compares the account with the processors now and stores the findings."
    ),
    ("POST", f"{ACC}/reconciliation/repairs"): _op(
        "Repair a finding", "Runs one explicit repair, then re-checks the account."
    ),
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
    ("POST", f"{ACC}/payment-methods/{{method_id}}/default"): _op(
        "Make a method the default", "Future charges use this payment method first."
    ),
    ("POST", f"{ACC}/payment-methods/{{method_id}}/remove"): _op(
        "Remove a payment method", "Detaches the method at its processor and stops using it."
    ),
    ("POST", f"{ACC}/subscriptions"): _op(
        "Subscribe to a plan", "Starts a subscription and issues (and collects) its first invoice."
    ),
    ("POST", f"{ACC}/subscriptions/{{subscription_id}}/plan"): _op(
        "Change plan", "Moves the subscription to another plan, prorated."
    ),
    ("POST", f"{ACC}/subscriptions/{{subscription_id}}/cancel"): _op(
        "Cancel a subscription", "Now, or at the end of the period (`at_period_end`)."
    ),
    ("POST", f"{ACC}/invoices/{{invoice_id}}/pay"): _op(
        "Pay an invoice",
        "Charges the invoice's amount due to a method (the default unless "
        "`method_id` is given). A decline answers 402.",
    ),
    ("POST", f"{ACC}/pay-bad-debt"): _op(
        "Pay bad debt", "Charges every uncollectible invoice at once; needs an Idempotency-Key."
    ),
    ("POST", f"{ACC}/payment-methods/cards"): _op(
        "Add a card", "Records a card already vaulted at the processor."
    ),
    ("POST", f"{ACC}/payment-methods/paypal"): _op(
        "Add a PayPal account", "Records a PayPal billing agreement vaulted at Braintree."
    ),
    ("POST", f"{ACC}/invoices/{{invoice_id}}/void"): _op(
        "Void an invoice", "Cancels an open invoice: nothing is owed on it any more."
    ),
    ("POST", f"{ACC}/payments/{{attempt_id}}/refunds"): _op(
        "Refund a payment",
        "Refunds part or all of a payment at its processor; needs an Idempotency-Key.",
    ),
    ("POST", f"{ACC}/provider-customers"): _op(
        "Link a processor customer", "Binds an existing customer at a processor to the account."
    ),
    ("POST", f"{ACC}/payment-methods/{{method_id}}/migrate-token"): _op(
        "Migrate a PayPal token", "Replaces a PayPal method's vault token (token migration)."
    ),
    ("POST", f"{ACC}/credits"): _op(
        "Grant a credit", "Adds customer credit, used before charging; may expire."
    ),
    ("POST", f"{ACC}/credits/{{credit_id}}/revoke"): _op(
        "Revoke a credit", "Removes what is left of a credit."
    ),
    ("POST", f"{ACC}/invoices/{{invoice_id}}/paid-out-of-band"): _op(
        "Record an out-of-band payment",
        "Marks the invoice paid by other means (a bank transfer) with its reference.",
    ),
    ("POST", f"{ACC}/invoices/{{invoice_id}}/write-off"): _op(
        "Write an invoice off", "Marks the invoice uncollectible (bad debt)."
    ),
    ("POST", "/billing/run"): _op(
        "Run billing",
        "Renewals, dunning retries and credit expiry due now, for the given accounts.",
    ),
    ("GET", f"{ACC}/invoices"): _op(
        "List invoices",
        "The account's invoices, newest first, "
        "filtered by status and dates; keyset pages (`cursor`).",
    ),
    ("GET", f"{ACC}/invoices/{{invoice_id}}"): _op(
        "Get an invoice", "Lines, amounts, display status and payment attempts."
    ),
    ("GET", f"{ACC}/invoices/{{invoice_id}}/pdf"): _op(
        "Download an invoice PDF", "The invoice as a PDF (never cached)."
    ),
    ("POST", f"{ACC}/payment-sessions"): _op(
        "Start a payment session",
        "Starts adding a card or PayPal account: answers the "
        "client secret or token for the browser and the Turnstile site key.",
    ),
    ("POST", f"{ACC}/payment-sessions/{{session_id}}/complete"): _op(
        "Complete a payment session",
        "Checks the Turnstile token, vaults the method and, if "
        "asked, pays the open invoices. 503 `session_store_unavailable` when Redis is down.",
    ),
    ("POST", f"{ACC}/payment-methods/cards/setup"): _op(
        "Start a card setup", "A Stripe SetupIntent client secret for the browser."
    ),
    ("POST", f"{ACC}/payment-methods/cards/vaulted"): _op(
        "Record a vaulted card", "Records the card the browser confirmed (`pm_...`)."
    ),
    ("POST", f"{ACC}/payment-methods/paypal/client-token"): _op(
        "Get a PayPal client token", "A Braintree client token for the PayPal drop-in."
    ),
    ("POST", f"{ACC}/payment-methods/paypal/vaulted"): _op(
        "Vault a PayPal account", "Vaults the drop-in's nonce and records the method."
    ),
    ("POST", f"{ACC}/provider-customers/sync"): _op(
        "Sync the processor customer",
        "Pushes the billing profile to the processor's customer (a repair).",
    ),
    ("GET", "/healthz"): _op(
        "Readiness",
        "200 when the database (and a configured Redis) answer; 503 with what is down otherwise.",
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
    if path == "/healthz":
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
