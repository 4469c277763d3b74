"""What every webhook translation shares: the command context (actor = the processor,
surface = webhook, command id = uuid5 of the delivery's identity) and the rule for the
answer: what the domain refuses is acknowledged as `refused` and logged (the processor
would only deliver it again), while transient failures propagate so the route answers
with an error status and the processor redelivers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid5

import structlog

from commands.errors import ConcurrencyConflict, ProcessorNotConfigured
from commands.models import CommandContext
from commands.ports import ProcessorUnavailable
from ledger.errors import DomainError
from ledger.meta import ActorKind, Surface

log = structlog.get_logger("webhooks")
EVENT_NAMESPACE = UUID("5b0e3c52-1c1e-4c59-9d0a-6f0f5e7b2a11")
# Worth a redelivery: the account was busy, the processor could not be asked, or the
# lookup needs a processor this deployment has not configured (yet).
TRANSIENT: tuple[type[DomainError], ...] = (
    ConcurrencyConflict,
    ProcessorUnavailable,
    ProcessorNotConfigured,
)


def context(provider: str, delivery: str, reason: str | None = None) -> CommandContext:
    """`delivery` names what the processor notified (Stripe: the event id; Braintree,
    which has none: kind, timestamp and subject id), so a redelivery is the same command."""
    return CommandContext(
        actor_id=provider,
        actor_kind=ActorKind.SYSTEM,
        surface=Surface.WEBHOOK,
        reason=reason,
        command_id=uuid5(EVENT_NAMESPACE, f"{provider}:{delivery}"),
    )


def refused_or(record: Callable[[], str], **fields: Any) -> str:
    """`record()`'s outcome, or `refused` (logged) when the domain refuses it."""
    try:
        return record()
    except TRANSIENT:
        raise
    except DomainError as refused:
        log.warning("webhook.refused", code=refused.code, detail=refused.detail, **fields)
        return "refused"
