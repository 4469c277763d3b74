"""`POST /webhooks/stripe`: Stripe's events, signature verified with the SDK, turned into
commands at the edge.

* Deduplicated by Stripe's event id: the command id is uuid5(event id), which the account
  remembers, and the outcome is recorded only while the attempt is still in flight, so a
  redelivery, an event arriving after the janitor, or events out of order change nothing.
* `payment_intent.succeeded` / `payment_intent.payment_failed` settle the attempt named in
  the PaymentIntent's metadata (`attempt_id`, `account_id`, set when charging).
* Every other type, and events for attempts the ledger does not know, are acknowledged
  (200) and logged: Stripe would only retry them.
* A bad signature is 400 `invalid_signature`; a failure on our side is 500, so Stripe
  delivers again later.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any
from uuid import UUID, uuid5

import stripe
import structlog
from fastapi import APIRouter, Depends, Header, Request

from adapters.bootstrap import Container
from adapters.http.common import container_of
from adapters.stripe.declines import decline_of
from commands.errors import AccountNotFound
from commands.janitor import record_if_in_flight
from commands.models import CommandContext
from commands.ports import ChargeResult
from ledger.errors import DomainError
from ledger.meta import ActorKind, Surface

log = structlog.get_logger("webhooks")
router = APIRouter(prefix="/webhooks", tags=["webhooks"])
EVENT_NAMESPACE = UUID("5b0e3c52-1c1e-4c59-9d0a-6f0f5e7b2a11")
Deps = Annotated[Container, Depends(container_of)]


class WebhooksNotConfigured(DomainError):
    """This deployment has no Stripe webhook signing secret."""

    code = "webhooks_not_configured"
    http_status = 404


class InvalidSignature(DomainError):
    """The Stripe-Signature header does not match the payload."""

    code = "invalid_signature"
    http_status = 400


@router.post("/stripe")
async def stripe_webhook(
    request: Request,
    c: Deps,
    stripe_signature: Annotated[str, Header(alias="Stripe-Signature")] = "",
) -> dict[str, str]:
    secret = c.settings.stripe_webhook_secret
    if secret is None:
        raise WebhooksNotConfigured()
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(payload, stripe_signature, secret.get_secret_value())
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise InvalidSignature() from error
    outcome = await asyncio.to_thread(handle, c, json.loads(payload))
    log.info("webhook.stripe", event_id=event.id, type=event.type, outcome=outcome)
    return {"received": event.id, "outcome": outcome}


def handle(c: Container, event: dict[str, Any]) -> str:
    kind = event.get("type", "")
    if kind not in ("payment_intent.succeeded", "payment_intent.payment_failed"):
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
    except AccountNotFound as refused:  # retrying cannot help; anything else is a 500
        log.warning("webhook.refused", event_id=event["id"], code=refused.code)
        return "refused"
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
    return CommandContext(
        actor_id="stripe",
        actor_kind=ActorKind.SYSTEM,
        surface=Surface.WEBHOOK,
        command_id=uuid5(EVENT_NAMESPACE, f"stripe:{event_id}"),
    )
