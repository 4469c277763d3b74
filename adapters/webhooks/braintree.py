"""Braintree notifications -> commands.

* `payment_method_revoked_by_customer`: the customer cancelled the PayPal billing agreement.
  The Braintree customer id is the ledger account id (adapters/braintree/vault.py) and the
  token names the method -> RecordPayPalRevoked.
* `dispute_opened` / `dispute_won` / `dispute_lost`: the disputed transaction is read back
  through the SDK (the notification's copy carries no customer and, for PayPal, often no
  order id): its order id is the attempt id, its customer id the account id ->
  RecordDisputeOpened / RecordDisputeClosed, for `amount_disputed` in the dispute's
  currency. A closing that arrives first records the opening too.
* `check` and every other kind (`transaction_settled`, `subscription_*`, ...) are
  acknowledged and logged.

Braintree notifications have no id: a delivery is named by kind, timestamp and subject id
(the token, or the dispute id), which a redelivery of the same notification repeats, so the
command id (uuid5 of those) makes it a replay.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.bootstrap import Container
from adapters.braintree.amounts import from_braintree_amount
from adapters.braintree.webhooks import BraintreeWebhooks
from adapters.webhooks.common import context, refused_or
from commands.models import (
    CommandContext,
    RecordDisputeClosed,
    RecordDisputeOpened,
    RecordPayPalRevoked,
)
from commands.processor_events import (
    record_dispute_closed,
    record_dispute_opened,
    record_paypal_revoked,
)

REVOKED = "payment_method_revoked_by_customer"
CHECK = "check"
DISPUTE_OPENED = "dispute_opened"
DISPUTE_CLOSINGS = {"dispute_won": True, "dispute_lost": False}
KINDS = frozenset({CHECK, REVOKED, DISPUTE_OPENED, *DISPUTE_CLOSINGS})  # handled; others ignored


def handle(c: Container, webhooks: BraintreeWebhooks, notification: Any) -> str:
    kind = str(notification.kind)
    if kind == CHECK:
        return "acknowledged"
    if kind == REVOKED:
        return _revoked(c, notification)
    if kind == DISPUTE_OPENED or kind in DISPUTE_CLOSINGS:
        return _dispute(c, webhooks, notification)
    return "ignored"


def delivery_of(notification: Any, subject_id: str) -> str:
    """The identity of a notification (it has no id of its own)."""
    timestamp = notification.timestamp
    stamp = timestamp.isoformat() if hasattr(timestamp, "isoformat") else str(timestamp)
    return f"{notification.kind}:{stamp}:{subject_id}"


def _revoked(c: Container, notification: Any) -> str:
    revoked = notification.revoked_payment_method_metadata
    account_id = _account_id(revoked.customer_id)
    if account_id is None:
        return "not_ours"
    cmd = RecordPayPalRevoked(account_id=account_id, token=str(revoked.token))
    ctx = _context(notification, str(revoked.token))
    return refused_or(
        lambda: record_paypal_revoked(c.deps, cmd, ctx).value,
        kind=REVOKED,
        token=cmd.token,
    )


def _dispute(c: Container, webhooks: BraintreeWebhooks, notification: Any) -> str:
    dispute = notification.dispute
    sale = webhooks.sale(str(dispute.transaction.id))
    account_id = _account_id(sale.customer_id) if sale else None
    if sale is None or account_id is None or not sale.order_id:
        return "not_ours"
    amount = from_braintree_amount(dispute.amount_disputed, str(dispute.currency_iso_code))
    opened = RecordDisputeOpened(
        account_id=account_id,
        attempt_id=sale.order_id,
        processor_payment_id=sale.transaction_id,
        dispute_id=str(dispute.id),
        amount=amount.amount,
        currency=amount.currency,
    )
    ctx = _context(notification, str(dispute.id))
    kind = str(notification.kind)
    if kind in DISPUTE_CLOSINGS:
        closed = RecordDisputeClosed(**opened.model_dump(), won=DISPUTE_CLOSINGS[kind])
        return refused_or(
            lambda: record_dispute_closed(c.deps, closed, ctx).value, kind=kind, dispute=dispute.id
        )
    return refused_or(
        lambda: record_dispute_opened(c.deps, opened, ctx).value, kind=kind, dispute=dispute.id
    )


def _account_id(customer_id: object) -> UUID | None:
    try:
        return UUID(str(customer_id))
    except ValueError:
        return None


def _context(notification: Any, subject_id: str) -> CommandContext:
    reason = f"braintree {notification.kind} {subject_id}"
    return context("braintree", delivery_of(notification, subject_id), reason)
