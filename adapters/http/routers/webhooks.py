"""`POST /webhooks/stripe` and `POST /webhooks/braintree`: the processors' notifications,
signatures verified with their SDKs, turned into commands at the edge (refunds, disputes and
PayPal revocations in adapters/webhooks/; see docs/payments.md "Webhooks").

* Deduplicated by Stripe's event id: the command id is uuid5(event id), which the account
  remembers, and the outcome is recorded only while the attempt is still in flight, so a
  redelivery, an event arriving after the janitor, or events out of order change nothing.
* `payment_intent.succeeded` / `payment_intent.payment_failed` settle the attempt named in
  the PaymentIntent's metadata (`attempt_id`, `account_id`, set when charging). A failure
  for an attempt waiting for the customer (3-D Secure) is recorded only after the
  PaymentIntent is cancelled at Stripe (else the customer could still pay it with the
  client secret their browser holds); a success the cancel finds is recorded instead.
  A success for an attempt already recorded as failed is answered `already_settled` and
  logged at error level (`payment.succeeded_after_failure`).
* Refunds (`refund.created`/`updated`, `charge.refunded`) and disputes
  (`charge.dispute.created`/`closed`) go to adapters/webhooks/stripe_*.py.
* `customer.updated` reconciles the account in the customer's `metadata.account_id`
  (adapters/reconcile.py): drift is listed in its findings, the profile never written.
* Every other type, events for attempts the ledger does not know, and events the domain
  refuses (`refused`) are acknowledged (200) and logged: Stripe would only retry them.
* A bad signature (or a timestamp older than the SDK's 5-minute tolerance) is 400
  `invalid_signature`. A signed delivery the ledger cannot read is 400 `malformed_webhook`:
  not a JSON object with `id`, `type` and `data.object`, or a field a translation needs
  missing or of the wrong type (a metadata id that is not a UUID, an amount that is not a
  number). A Braintree notification older than `LEDGER_BRAINTREE_WEBHOOK_MAX_AGE_S`
  (default 26 h: Braintree redelivers for 24 h) is 400 `stale_webhook`. Each of these
  400s is counted in `billing_webhooks_rejected_total{provider, reason}` and logged.
* Each acknowledged delivery (200) is counted in `billing_webhooks_received_total{provider,
  type}`, and in `billing_webhooks_duplicate_total` too when it told what the ledger had
  recorded already (`already_recorded`, `already_settled`); `type` is the event type (the
  Braintree kind) when the ledger handles it, else `other`, so the label set stays bounded.
* Nothing is recorded, and Stripe delivers again later (it retries every non-2xx
  answer), when the outcome cannot be recorded yet: 503
  `processor_unavailable` when Stripe cannot be asked to cancel a waiting payment (or
  still shows it waiting), 409 `concurrency_conflict` when the account kept changing under
  the recording, 500 `internal_error` for anything unexpected.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs
from uuid import UUID

import stripe
import structlog
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.bootstrap import Container
from adapters.braintree.webhooks import UNREADABLE, BadNotification, MalformedNotification
from adapters.http.common import ContainerDep
from adapters.http.problems import EdgeError
from adapters.metrics import WEBHOOKS_DUPLICATE, WEBHOOKS_RECEIVED, WEBHOOKS_REJECTED
from adapters.reconcile import on_customer_updated
from adapters.stripe.declines import decline_of
from adapters.webhooks import braintree as braintree_events
from adapters.webhooks import stripe_disputes, stripe_refunds
from adapters.webhooks.common import context
from commands.errors import AccountNotFound
from commands.janitor import record_if_in_flight
from commands.models import CommandContext
from commands.ports import ChargeResult, ProcessorUnavailable

log = structlog.get_logger("webhooks")
router = APIRouter(prefix="/webhooks", tags=["webhooks"])
PAYMENT_INTENT_TYPES = ("payment_intent.succeeded", "payment_intent.payment_failed")
# Outcomes of a delivery that recorded nothing because the ledger knew it already.
DUPLICATE_OUTCOMES = frozenset({"already_recorded", "already_settled"})


class WebhooksNotConfigured(EdgeError):
    """This deployment has no webhook configuration for this processor (Stripe: no signing
    secret; Braintree: no credentials)."""

    code = "webhooks_not_configured"
    http_status = 404


class InvalidSignature(EdgeError):
    """The delivery's signature does not match its payload."""

    code = "invalid_signature"
    http_status = 400


class MalformedWebhook(EdgeError):
    """The delivery is signed, but it is not a notification the ledger can read."""

    code = "malformed_webhook"
    http_status = 400


class StaleWebhook(EdgeError):
    """The notification is older than this deployment accepts (a replay, or one Braintree
    stopped redelivering long ago; reconciliation finds what it would have told)."""

    code = "stale_webhook"
    http_status = 400


class StripeEventData(BaseModel):
    object: dict[str, Any]


class StripeEvent(BaseModel):
    """The envelope every Stripe event has; the translations read the rest."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    data: StripeEventData


def acknowledged(provider: str, kind: str, known: frozenset[str], outcome: str) -> None:
    """Counts a delivery answered 200, under its type when the ledger handles it."""
    label = kind if kind in known else "other"
    WEBHOOKS_RECEIVED.labels(provider, label).inc()
    if outcome in DUPLICATE_OUTCOMES:
        WEBHOOKS_DUPLICATE.labels(provider, label).inc()


def rejected(provider: str, refusal: EdgeError, **why: Any) -> EdgeError:
    """The 400 to raise for a delivery, counted and logged."""
    WEBHOOKS_REJECTED.labels(provider, refusal.code).inc()
    log.warning("webhook.rejected", provider=provider, code=refusal.code, **why)
    return refusal


async def translated(provider: str, translate: Callable[[], str]) -> str:
    """The translation's outcome; a field it cannot read (missing, of the wrong type, an id
    that is not a UUID, refused by a command model) makes the delivery malformed. Domain
    errors (refusals, transient failures) are not caught here."""
    try:
        return await asyncio.to_thread(translate)
    except (*UNREADABLE, MalformedNotification) as error:
        detail = f"{type(error).__name__}: {error}"
        raise rejected(provider, MalformedWebhook(), error=detail) from error


@router.post("/stripe")
async def stripe_webhook(
    request: Request,
    c: ContainerDep,
    stripe_signature: Annotated[str, Header(alias="Stripe-Signature")] = "",
) -> dict[str, str]:
    secret = c.settings.stripe_webhook_secret
    if secret is None:
        raise WebhooksNotConfigured()
    payload = await request.body()
    try:
        stripe.WebhookSignature.verify_header(
            payload, stripe_signature, secret.get_secret_value(), stripe.Webhook.DEFAULT_TOLERANCE
        )
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise rejected("stripe", InvalidSignature(), error=str(error)) from error
    try:
        event = json.loads(payload)
        StripeEvent.model_validate(event)
    except (ValueError, ValidationError) as error:
        raise rejected("stripe", MalformedWebhook(), error=str(error)) from error
    outcome = await translated("stripe", lambda: handle(c, event))
    acknowledged("stripe", str(event["type"]), STRIPE_TYPES, outcome)
    log.info("webhook.stripe", event_id=event.get("id"), type=event.get("type"), outcome=outcome)
    return {"received": str(event.get("id")), "outcome": outcome}


STRIPE_HANDLERS = {
    "charge.refunded": stripe_refunds.on_charge_refunded,
    "refund.created": stripe_refunds.on_refund,
    "refund.updated": stripe_refunds.on_refund,
    "charge.dispute.created": stripe_disputes.on_dispute_created,
    "charge.dispute.closed": stripe_disputes.on_dispute_closed,
}
STRIPE_TYPES = frozenset({*STRIPE_HANDLERS, "customer.updated", *PAYMENT_INTENT_TYPES})


def handle(c: Container, event: dict[str, Any]) -> str:
    kind = event.get("type", "")
    if (translate := STRIPE_HANDLERS.get(kind)) is not None:
        return translate(c, event)
    if kind == "customer.updated":  # reconciled, never written back (adapters/reconcile.py)
        return on_customer_updated(c, event)
    if kind not in PAYMENT_INTENT_TYPES:
        return "ignored"
    intent = event["data"]["object"]
    metadata = intent.get("metadata") or {}
    attempt_id, account = metadata.get("attempt_id"), metadata.get("account_id")
    if not attempt_id or not account:
        return "not_ours"
    charge = _charge(kind, intent)
    ctx = _context(event["id"])
    try:
        recorded = record_if_in_flight(c.deps, UUID(account), attempt_id, charge, ctx)
    except AccountNotFound as refused:  # retrying cannot help; anything else is retried
        log.warning("webhook.refused", event_id=event["id"], code=refused.code)
        return "refused"
    except ProcessorUnavailable:  # the waiting payment could not be cancelled yet: a 503
        log.warning("webhook.retry_later", event_id=event["id"], attempt_id=attempt_id)
        raise
    return "recorded" if recorded else "already_settled"


def _charge(kind: str, intent: dict[str, Any]) -> ChargeResult:
    if kind == "payment_intent.succeeded":
        return ChargeResult(succeeded=True, processor_payment_id=intent["id"])
    return ChargeResult(
        succeeded=False,
        processor_payment_id=intent["id"],
        decline_code=decline_of(intent.get("last_payment_error")),
    )


def _context(event_id: str) -> CommandContext:
    return context("stripe", event_id)


@router.post("/braintree")
async def braintree_webhook(request: Request, c: ContainerDep) -> dict[str, str]:
    """Form fields `bt_signature` and `bt_payload`, parsed by the SDK."""
    webhooks = c.braintree_webhooks
    if webhooks is None:
        raise WebhooksNotConfigured()
    form = parse_qs((await request.body()).decode("latin-1"))
    try:
        notification = webhooks.parse(_field(form, "bt_signature"), _field(form, "bt_payload"))
    except BadNotification as error:
        raise rejected("braintree", InvalidSignature(), error=str(error)) from error
    except MalformedNotification as error:
        raise rejected("braintree", MalformedWebhook(), error=str(error)) from error
    sent_at = webhooks.sent_at(notification)
    max_age = timedelta(seconds=c.settings.braintree_webhook_max_age_s)
    if c.deps.clock.now() - sent_at > max_age:
        stale = StaleWebhook(f"sent at {sent_at.isoformat()}, older than {max_age}")
        raise rejected("braintree", stale, kind=str(notification.kind), sent_at=sent_at)
    outcome = await translated(
        "braintree", lambda: braintree_events.handle(c, webhooks, notification)
    )
    acknowledged("braintree", str(notification.kind), braintree_events.KINDS, outcome)
    log.info("webhook.braintree", kind=notification.kind, outcome=outcome)
    return {"received": str(notification.kind), "outcome": outcome}


def _field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    if not values:
        raise rejected("braintree", InvalidSignature(f"{name} is missing"))
    return values[0]
