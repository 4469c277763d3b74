"""Which ledger attempt a Stripe charge, refund or dispute belongs to. The PaymentIntent's
metadata names it (`attempt_id`, `account_id`, set when charging); a charge may carry the
same metadata, refunds and disputes never do, so the PaymentIntent is read back from Stripe
through the adapter when the object in the event lacks it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.bootstrap import Container
from adapters.stripe import StripeGateway
from commands.errors import ProcessorNotConfigured


@dataclass(frozen=True)
class StripePayment:
    account_id: UUID
    attempt_id: str
    payment_intent_id: str


def payment_of(
    c: Container,
    payment_intent: object,
    charge: object = None,
    metadata: Mapping[str, Any] | None = None,
) -> StripePayment | None:
    """None for a payment the ledger did not make (no metadata of ours, or unknown ids).
    `payment_intent` and `charge` are ids or expanded objects, as Stripe sends them."""
    intent_id = id_of(payment_intent)
    if intent_id is None and (charge_id := id_of(charge)) is not None:
        found = stripe_of(c).charge_object(charge_id)
        intent_id = id_of(found.get("payment_intent")) if found else None
    if intent_id is None:
        return None
    if not _ours(metadata):
        intent = stripe_of(c).payment_intent(intent_id)
        metadata = (intent or {}).get("metadata")
    if metadata is None or not _ours(metadata):
        return None
    try:
        account_id = UUID(str(metadata["account_id"]))
    except ValueError:
        return None
    return StripePayment(account_id, str(metadata["attempt_id"]), intent_id)


def stripe_of(c: Container) -> StripeGateway:
    if c.stripe is None:
        raise ProcessorNotConfigured("a Stripe webhook needs LEDGER_STRIPE_API_KEY to look up")
    return c.stripe


def id_of(value: object) -> str | None:
    """An id from a field that holds the id, the expanded object, or nothing."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _ours(metadata: Mapping[str, Any] | None) -> bool:
    return bool(metadata and metadata.get("attempt_id") and metadata.get("account_id"))
