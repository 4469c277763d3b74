"""Stripe disputes -> RecordDisputeOpened / RecordDisputeClosed.

* `charge.dispute.created` opens the dispute on the attempt, for the disputed amount. An
  inquiry (`warning_needs_response`) withdraws no funds and is only acknowledged.
* `charge.dispute.closed` with `won` or `lost` closes it; one that arrives before its
  opening was recorded records both (commands/processor_events.py). Other closings
  (`warning_closed`: an inquiry that ended; `charge_refunded`; `prevented`) are
  acknowledged: no chargeback was recorded for them.
* `charge.dispute.funds_withdrawn` / `funds_reinstated` / `updated` are acknowledged: the
  withdrawal is recorded with the opening, the reinstatement with a won closing.
"""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Container
from adapters.stripe.amounts import from_stripe_amount
from adapters.webhooks.common import context, refused_or
from adapters.webhooks.stripe_payments import payment_of
from commands.models import CommandContext, RecordDisputeClosed, RecordDisputeOpened
from commands.processor_events import record_dispute_closed, record_dispute_opened

INQUIRY_PREFIX = "warning_"
CLOSINGS = {"won": True, "lost": False}


def on_dispute_created(c: Container, event: dict[str, Any]) -> str:
    dispute = event["data"]["object"]
    if str(dispute.get("status", "")).startswith(INQUIRY_PREFIX):
        return "ignored"
    opened = _opened(c, dispute)
    if opened is None:
        return "not_ours"
    ctx = _context(event, dispute)
    return refused_or(
        lambda: record_dispute_opened(c.deps, opened, ctx).value,
        event_id=event["id"],
        dispute=dispute["id"],
    )


def on_dispute_closed(c: Container, event: dict[str, Any]) -> str:
    dispute = event["data"]["object"]
    won = CLOSINGS.get(str(dispute.get("status")))
    if won is None:
        return "ignored"
    opened = _opened(c, dispute)
    if opened is None:
        return "not_ours"
    closed = RecordDisputeClosed(**opened.model_dump(), won=won)
    ctx = _context(event, dispute)
    return refused_or(
        lambda: record_dispute_closed(c.deps, closed, ctx).value,
        event_id=event["id"],
        dispute=dispute["id"],
    )


def _opened(c: Container, dispute: dict[str, Any]) -> RecordDisputeOpened | None:
    payment = payment_of(c, dispute.get("payment_intent"), dispute.get("charge"))
    if payment is None:
        return None
    disputed = from_stripe_amount(int(dispute["amount"]), str(dispute["currency"]))
    return RecordDisputeOpened(
        account_id=payment.account_id,
        attempt_id=payment.attempt_id,
        processor_payment_id=payment.payment_intent_id,
        dispute_id=str(dispute["id"]),
        amount=disputed.amount,
        currency=disputed.currency,
    )


def _context(event: dict[str, Any], dispute: dict[str, Any]) -> CommandContext:
    return context("stripe", str(event["id"]), f"stripe {event['type']} {dispute['id']}")
