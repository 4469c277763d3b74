"""Facts a payment processor reports, recorded as commands (the webhooks call these): a
refund made at the processor (its dashboard, or one of ours whose recording a crash lost),
a dispute opened or closed, a PayPal billing agreement the customer revoked. Nothing is
asked of the processor here: the processor already did it.

Each handler records only what the account does not show yet, so one fact reported twice
(a redelivery, or two notifications about one refund such as `refund.created` and
`charge.refunded`) changes nothing the second time: `Outcome.ALREADY_RECORDED`.

Out of order:
* a refund or a dispute of an attempt still in flight proves that the payment succeeded
  (processors refund and dispute captured payments only), so the success is recorded
  first, with the processor's payment id; the late success notification is then
  `already_settled`;
* a dispute closed before it was recorded as opened is recorded as opened and closed in
  one save (the closing notification carries the dispute's id and amount), so the ledger
  never depends on the opening notification arriving, or arriving first; the late opening
  is then `already_recorded` (one dispute per payment, as at Stripe and in the domain);
* anything else the domain refuses (a refund of a failed attempt, a payment other than the
  one recorded) raises its DomainError and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from uuid import UUID

from commands.base import Deps, acting, meta_of
from commands.models import (
    CommandContext,
    RecordDisputeClosed,
    RecordDisputeOpened,
    RecordPayPalRevoked,
    RecordProcessorRefund,
)
from ledger.account import Account
from ledger.errors import DomainError, ErrorKind
from ledger.meta import EventMeta
from ledger.methods import MethodKind, MethodNotFound, MethodState
from ledger.money import Money
from ledger.payments import AttemptNotFound, DisputeStatus, PaymentAttempt

_CLOSED = frozenset({DisputeStatus.WON, DisputeStatus.LOST})


class Outcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_RECORDED = "already_recorded"


class ProcessorPaymentMismatch(DomainError):
    """The processor reports a payment other than the one the ledger recorded for this
    attempt."""

    code = "processor_payment_mismatch"
    kind = ErrorKind.CONFLICT


def record_refund(deps: Deps, cmd: RecordProcessorRefund, ctx: CommandContext) -> Outcome:
    return _recorded(deps, cmd.account_id, ctx, lambda a: apply_refund(a, cmd, meta_of(deps, ctx)))


def apply_refund(account: Account, cmd: RecordProcessorRefund, meta: EventMeta) -> Outcome:
    """The refund on the loaded account (not saved), unless its refund id is recorded: for
    a caller that saves it together with more (a reconciliation repair and its record)."""
    if cmd.refund_id in account.refund_ids:
        return Outcome.ALREADY_RECORDED
    _paid_attempt(account, cmd.attempt_id, cmd.processor_payment_id, meta)
    account.refund(cmd.attempt_id, cmd.refund_id, Money(cmd.amount, cmd.currency), meta)
    return Outcome.RECORDED


def record_dispute_opened(deps: Deps, cmd: RecordDisputeOpened, ctx: CommandContext) -> Outcome:
    def act(account: Account) -> Outcome:
        meta = meta_of(deps, ctx)
        if _paid_attempt(account, cmd.attempt_id, cmd.processor_payment_id, meta).dispute:
            return Outcome.ALREADY_RECORDED
        _open(account, cmd, meta)
        return Outcome.RECORDED

    return _recorded(deps, cmd.account_id, ctx, act)


def record_dispute_closed(deps: Deps, cmd: RecordDisputeClosed, ctx: CommandContext) -> Outcome:
    def act(account: Account) -> Outcome:
        meta = meta_of(deps, ctx)
        attempt = _paid_attempt(account, cmd.attempt_id, cmd.processor_payment_id, meta)
        if attempt.dispute in _CLOSED:
            return Outcome.ALREADY_RECORDED
        if attempt.dispute is None:  # the opening was never recorded: both, in one save
            _open(account, cmd, meta)
        account.close_dispute(cmd.attempt_id, cmd.won, meta)
        return Outcome.RECORDED

    return _recorded(deps, cmd.account_id, ctx, act)


def record_paypal_revoked(deps: Deps, cmd: RecordPayPalRevoked, ctx: CommandContext) -> Outcome:
    """The customer cancelled the billing agreement at PayPal. A method that can no longer
    be charged anyway (already revoked, removed or expired) is left as it is."""

    def act(account: Account) -> Outcome:
        method = next(
            (
                m
                for m in account.methods.values()
                if m.kind is MethodKind.PAYPAL and m.processor_ref == cmd.token
            ),
            None,
        )
        if method is None:
            raise MethodNotFound(f"no PayPal method with token {cmd.token}")
        if method.state is not MethodState.ACTIVE:
            return Outcome.ALREADY_RECORDED
        account.revoke_method(method.method_id, meta_of(deps, ctx))
        return Outcome.RECORDED

    return _recorded(deps, cmd.account_id, ctx, act)


def _paid_attempt(
    account: Account, attempt_id: str, processor_payment_id: str, meta: EventMeta
) -> PaymentAttempt:
    """The attempt, its success recorded first if it was still in flight (see the module
    docstring); refused when the ledger holds another payment for it."""
    attempt = account.attempts.get(attempt_id)
    if attempt is None:
        raise AttemptNotFound(attempt_id)
    if attempt.in_flight:
        account.record_success(attempt_id, processor_payment_id, meta)
        return account.attempts[attempt_id]
    if attempt.processor_payment_id not in (None, processor_payment_id):
        raise ProcessorPaymentMismatch(
            f"{processor_payment_id} reported, {attempt.processor_payment_id} recorded"
        )
    return attempt


def _open(account: Account, cmd: RecordDisputeOpened, meta: EventMeta) -> None:
    amount = Money(cmd.amount, cmd.currency)
    account.open_dispute(cmd.attempt_id, cmd.dispute_id, amount, meta)


def _recorded(
    deps: Deps, account_id: UUID, ctx: CommandContext, act: Callable[[Account], Outcome]
) -> Outcome:
    value, _ = acting(deps, account_id, ctx, act)
    return value or Outcome.ALREADY_RECORDED  # None: this command id was seen already
