"""Stripe refunds -> RecordProcessorRefund.

* `refund.created` / `refund.updated`: the refund in the event; `charge.refunded`: every
  refund of the PaymentIntent, listed through the adapter (since API version 2022-11-15 a
  charge in an event no longer embeds its refunds).
* Only `succeeded` refunds move money in the ledger; a pending one is recorded when
  `refund.updated` says it succeeded.
* A refund the ledger made carries `metadata.refund_id`: recorded already (no change), or,
  when a crash lost its recording, recorded now under that id. A refund made at Stripe's
  dashboard has none: recorded under Stripe's `re_...` id.
* One command per refund: uuid5 of the event id and the refund id, so a redelivery records
  nothing and two events about one refund record it once (the refund id decides).
"""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Container
from adapters.stripe.amounts import from_stripe_amount
from adapters.webhooks.common import context, log, refused_or
from adapters.webhooks.stripe_payments import StripePayment, id_of, payment_of, stripe_of
from commands.models import RecordProcessorRefund
from commands.processor_events import record_refund

SUCCEEDED = "succeeded"


def on_refund(c: Container, event: dict[str, Any]) -> str:
    refund = event["data"]["object"]
    payment = payment_of(c, refund.get("payment_intent"), refund.get("charge"))
    if payment is None:
        return "not_ours"
    return _record_all(c, event, payment, [refund])


def on_charge_refunded(c: Container, event: dict[str, Any]) -> str:
    charge = event["data"]["object"]
    payment = payment_of(c, charge.get("payment_intent"), charge.get("id"), charge.get("metadata"))
    if payment is None:
        return "not_ours"
    return _record_all(c, event, payment, stripe_of(c).refunds_of(payment.payment_intent_id))


def _record_all(
    c: Container, event: dict[str, Any], payment: StripePayment, refunds: list[dict[str, Any]]
) -> str:
    settled = [r for r in refunds if r.get("status") == SUCCEEDED]
    if not settled:
        log.info("webhook.refund_not_settled", event_id=event["id"], refunds=len(refunds))
        return "ignored"
    outcomes = {_record(c, event, payment, refund) for refund in settled}
    return next(o for o in ("recorded", "refused", "already_recorded") if o in outcomes)


def _record(
    c: Container, event: dict[str, Any], payment: StripePayment, refund: dict[str, Any]
) -> str:
    stripe_id = str(refund["id"])
    refunded = from_stripe_amount(int(refund["amount"]), str(refund["currency"]))
    cmd = RecordProcessorRefund(
        account_id=payment.account_id,
        attempt_id=payment.attempt_id,
        processor_payment_id=id_of(refund.get("payment_intent")) or payment.payment_intent_id,
        refund_id=(refund.get("metadata") or {}).get("refund_id") or stripe_id,
        amount=refunded.amount,
        currency=refunded.currency,
    )
    ctx = context("stripe", f"{event['id']}:{stripe_id}", f"stripe {event['type']} {stripe_id}")
    return refused_or(
        lambda: record_refund(c.deps, cmd, ctx).value, event_id=event["id"], refund=stripe_id
    )
