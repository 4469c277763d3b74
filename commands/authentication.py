"""A payment waiting for the customer to authenticate it (3-D Secure), from the customer's
side: `waiting_payment` finds the account's attempt for an invoice that waits for the
customer and asks the processor for its client secret again (it is never stored), for the
browser's Stripe.js; `check_authentication` is what the browser says when Stripe.js is done:
the processor is asked (`find_charge`) and its outcome recorded by the same recording a
repeated payment request makes (`collect.record_outcome`: a failure only once the payment
is cancelled at the processor). Both are safe to repeat, and safe beside the webhook or the
janitor recording the same outcome first: an attempt already settled is only read.

`payment_state` reads where an attempt stands (for the page that shows the outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog

from commands.base import Deps, load_account
from commands.collect import record_outcome
from commands.models import CheckAuthentication, CommandContext
from commands.ports import ProcessorUnavailable
from ledger.account import Account
from ledger.errors import DomainError, ErrorKind
from ledger.invoices import InvoiceStatus
from ledger.money import Money
from ledger.payments import AttemptStatus, PaymentAttempt, Processor

log = structlog.get_logger("authentication")


class PaymentNotWaiting(DomainError):
    """This invoice has no payment waiting for the customer to authenticate it."""

    code = "payment_not_waiting"
    kind = ErrorKind.NOT_FOUND


@dataclass(frozen=True)
class WaitingPayment:
    """A payment the customer's bank asks them to authenticate. `client_secret` is None
    when the processor no longer shows it waiting (its outcome is there to be recorded)."""

    attempt_id: str
    invoice_id: str
    invoice_number: str | None
    amount: Money
    processor: Processor
    client_secret: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class PaymentState:
    """Where an attempt that waited for the customer stands, with its invoice."""

    attempt_id: str
    status: AttemptStatus
    invoice_id: str
    invoice_number: str | None
    invoice_status: InvoiceStatus
    amount: Money
    paid_at: datetime | None
    was_uncollectible: bool  # the invoice was bad debt before this payment
    bad_debt: bool  # the account still has uncollectible invoices
    purchase: str | None = None  # the on-session purchase the invoice was for: subscribe, plan


def waiting_payment(deps: Deps, account_id: UUID, invoice_id: str) -> WaitingPayment:
    account = load_account(deps.app, account_id)
    attempt = _waiting_on(account, invoice_id)
    found = deps.gateway.find_charge(attempt.attempt_id, attempt.processor)
    secret = found.client_secret if found is not None and found.requires_action else None
    return WaitingPayment(
        attempt.attempt_id,
        invoice_id,
        account.invoices[invoice_id].number,
        attempt.amount,
        attempt.processor,
        secret,
        attempt.action_expires_at,
    )


def check_authentication(deps: Deps, cmd: CheckAuthentication, ctx: CommandContext) -> PaymentState:
    """Records the processor's outcome of an attempt still waiting for the customer; an
    attempt already settled (a webhook, the janitor, or this same check before) is read as
    it stands. A processor that cannot be asked, or still shows the payment waiting, leaves
    it waiting (the webhook or the janitor records it later)."""
    account = load_account(deps.app, cmd.account_id)
    attempt = _attempt_on(account, cmd.invoice_id, cmd.attempt_id)
    if attempt.awaiting_customer:
        try:
            found = deps.gateway.find_charge(attempt.attempt_id, attempt.processor)
            if found is not None and not found.requires_action:
                _, account = record_outcome(deps, account, attempt.attempt_id, found, ctx)
        except ProcessorUnavailable:
            log.info("authentication.not_settled", attempt_id=attempt.attempt_id)
    return _state_of(account, attempt.attempt_id)


def payment_state(deps: Deps, account_id: UUID, invoice_id: str, attempt_id: str) -> PaymentState:
    account = load_account(deps.app, account_id)
    attempt = _attempt_on(account, invoice_id, attempt_id)
    return _state_of(account, attempt.attempt_id)


def _waiting_on(account: Account, invoice_id: str) -> PaymentAttempt:
    waiting = [
        a for a in account.attempts.values() if a.invoice_id == invoice_id and a.awaiting_customer
    ]
    if not waiting:
        raise PaymentNotWaiting()
    return max(waiting, key=lambda a: a.started_at)


def _attempt_on(account: Account, invoice_id: str, attempt_id: str) -> PaymentAttempt:
    """The attempt, if it is the invoice's and once waited for the customer."""
    attempt = account.attempts.get(attempt_id)
    if attempt is None or attempt.invoice_id != invoice_id or not _waited(attempt):
        raise PaymentNotWaiting()
    return attempt


def _waited(attempt: PaymentAttempt) -> bool:
    """It asked the customer to authenticate (it has the processor's payment id and a
    deadline only then, or it settled after)."""
    return attempt.awaiting_customer or attempt.action_expires_at is not None


def _state_of(account: Account, attempt_id: str) -> PaymentState:
    attempt = account.attempts[attempt_id]
    invoice = account.invoices[attempt.invoice_id]
    return PaymentState(
        attempt_id,
        attempt.status,
        invoice.invoice_id,
        invoice.number,
        invoice.status,
        attempt.amount,
        invoice.paid_at,
        invoice.marked_uncollectible_at is not None,
        account.bad_debt,
        _purchase(invoice.on_session_change),
    )


def _purchase(on_session_change: str | None) -> str | None:
    """`subscribe`, or `plan` for a plan change (`plan:old>new`), or None."""
    return on_session_change.split(":", 1)[0] if on_session_change else None
