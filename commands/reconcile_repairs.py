"""Reconciliation repairs: explicit support commands, each with a reason, each recorded as
`ReconciliationRepaired` (after the events of what it changed in the ledger, if any).

What a repair changes in the ledger (`Done.change`) is saved in the same save as its
record, so a crash or a conflict leaves both or neither, and a retry under the same command
id either replays or does the whole repair. The processor-side writes (push-customer,
push-default) are idempotent: a retry after the write and before the save finds its
precondition still holding, writes again (no change) and records the repair once.
detach-method is not (its retry finds the method gone, as a stale finding would), so with
a command id it first records `ReconciliationRepairStarted` under an id derived from it: a
retry that finds the method detached and its own start knows the detach was its own.

A repair checks its precondition against the processor again before it acts (a finding may
be stale), and never touches a payment still in flight (commands/reconcile_compare.py
SETTLE_AFTER) or an account lifting bad debt. The caller re-checks the account afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from uuid import UUID, uuid5

from pydantic import ValidationError

from commands.base import (
    CommandResult,
    Deps,
    follow_up,
    load_account,
    load_act_save,
    meta_of,
    replay_of,
)
from commands.collect import apply_charge
from commands.customers import directory_for, push_customer, record_sync
from commands.janitor import NOT_RECEIVED
from commands.models import (
    CommandContext,
    RecordProcessorRefund,
    RepairAction,
    RepairReconciliation,
    SyncProviderCustomer,
    UpdateProfile,
)
from commands.ports import (
    ChargeResult,
    DisputeState,
    ProcessorDispute,
    ProcessorPayment,
    ProviderCustomerNotFound,
)
from commands.processor_events import Outcome, apply_refund
from commands.reconcile_compare import LEDGER_DISPUTE_STATES, SETTLE_AFTER, processor_of
from commands.vaulting import card_vault, paypal_vault
from ledger.account import Account
from ledger.errors import (
    DomainError,
    ErrorKind,
    InvalidProfile,
    NothingToChange,
    ProviderCustomerNotLinked,
    ReasonRequired,
    SupportOnly,
)
from ledger.meta import ActorKind, EventMeta
from ledger.methods import MethodNotFound
from ledger.money import Money
from ledger.payments import AttemptInFlight, AttemptNotFound, PaymentAttempt, Processor


class RepairNotApplicable(DomainError):
    """The processor or the ledger no longer shows what this repair is for (or never did):
    nothing was changed. Reconcile the account again to see what is there now."""

    code = "repair_not_applicable"
    kind = ErrorKind.CONFLICT


@dataclass(frozen=True)
class RepairOutcome:
    subject: str
    detail: str  # what was done, as recorded on ReconciliationRepaired
    result: CommandResult


Change = Callable[[Account, EventMeta], None]


@dataclass(frozen=True)
class Done:
    processor: Processor
    subject: str
    detail: str
    # The ledger's side of the repair, run on the account in the save that records the
    # repair (rerun on a reloaded account after a conflict: it checks its precondition).
    change: Change | None = None


Repair = Callable[[Deps, RepairReconciliation, CommandContext], Done]


def repair(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> RepairOutcome:
    if ctx.actor_kind is not ActorKind.SUPPORT:  # checked again by the domain, but first
        raise SupportOnly("reconciliation repairs are a support action")
    if not ctx.reason:
        raise ReasonRequired("a reconciliation repair needs a reason")
    account = load_account(deps.app, cmd.account_id)
    if (replayed := replay_of(deps, account, ctx)) is not None:
        return RepairOutcome("", "already repaired by this command", replayed)
    if account.lifting_bad_debt:
        raise AttemptInFlight("a bad-debt payment is in flight: no repairs until it settles")
    effect_ctx = follow_up(ctx)
    done = _REPAIRS[cmd.action](deps, cmd, ctx)

    def record(a: Account) -> None:
        if done.change is not None:
            done.change(a, meta_of(deps, effect_ctx))
        meta = meta_of(deps, ctx)
        a.record_repair(cmd.action.value, done.processor, done.subject, done.detail, meta)

    return RepairOutcome(
        done.subject, done.detail, load_act_save(deps, cmd.account_id, ctx, record)
    )


# --- customers ---------------------------------------------------------------------------


def _linked(account: Account, processor: Processor) -> str:
    linked = account.provider_customers.get(processor.value)
    if linked is None:
        raise ProviderCustomerNotLinked(f"no {processor.value} customer is linked")
    return linked


def _push_customer(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    sync = SyncProviderCustomer(account_id=cmd.account_id, processor=cmd.processor, force=True)
    customer_id, action, written = push_customer(deps, sync)

    def change(account: Account, meta: EventMeta) -> None:
        record_sync(account, cmd.processor, customer_id, written, meta)

    return Done(cmd.processor, customer_id, f"customer {action} from the profile", change)


def _adopt_customer(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    """The processor's name and email become the profile's, then the sync records them as
    what the processor holds (so the drift is gone, not hidden)."""
    account = load_account(deps.app, cmd.account_id)
    linked = _linked(account, cmd.processor)
    remote = directory_for(deps, cmd.processor).get_customer(linked)
    if remote is None:
        raise ProviderCustomerNotFound(f"{cmd.processor.value} has no customer {linked}")
    if not remote.name or not remote.email:
        raise InvalidProfile("the processor's customer lacks a name or an email")
    try:
        update = UpdateProfile(account_id=cmd.account_id, name=remote.name, email=remote.email)
    except ValidationError as invalid:
        raise InvalidProfile(f"the processor's values are not a valid profile: {invalid}") from None
    held = {"name": remote.name, "email": remote.email}

    def change(a: Account, meta: EventMeta) -> None:
        with suppress(NothingToChange):
            a.update_profile(a.profile.with_changes(name=update.name, email=update.email), meta)
        record_sync(a, cmd.processor, linked, held, meta)

    return Done(
        cmd.processor, linked, f"profile took name={remote.name}, email={remote.email}", change
    )


# --- payment methods ---------------------------------------------------------------------


def _push_default(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    account = load_account(deps.app, cmd.account_id)
    default = account.methods.get(account.default_method_id or "")
    if default is None or not default.usable or processor_of(default) is not cmd.processor:
        raise RepairNotApplicable(f"the ledger's default is not a {cmd.processor.value} method")
    linked = _linked(account, cmd.processor)
    if cmd.processor is Processor.BRAINTREE:
        paypal_vault(deps).make_default(default.processor_ref)
    else:
        card_vault(deps).set_default_card(linked, default.processor_ref)
    return Done(cmd.processor, default.method_id, f"{default.processor_ref} made the default")


def _detach_method(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    """Only a method attached to this account's customer and not usable in the ledger."""
    account = load_account(deps.app, cmd.account_id)
    ref = cmd.method_ref
    if ref is None:
        raise RepairNotApplicable("--ref (the processor's method reference) is required")
    if any(m.processor_ref == ref and m.usable for m in account.methods.values()):
        raise RepairNotApplicable(f"{ref} is a usable method of this account")
    linked = _linked(account, cmd.processor)
    done = Done(cmd.processor, ref, f"{ref} detached from {linked}")
    if ref not in _refs_at(deps, cmd.processor, linked):
        if _started_before(account, ctx):  # detached by this command's try that crashed
            return done
        raise RepairNotApplicable(f"{ref} is not attached to {linked}")
    _start(deps, cmd, ctx, ref)
    if cmd.processor is Processor.BRAINTREE:
        paypal_vault(deps).delete_method(ref)
    else:
        card_vault(deps).detach_card(ref)
    return done


def _started_id(command_id: UUID) -> UUID:
    return uuid5(command_id, "repair-started")


def _started_before(account: Account, ctx: CommandContext) -> bool:
    started = ctx.command_id and account.version_after_command(_started_id(ctx.command_id))
    return bool(started)


def _start(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext, subject: str) -> None:
    """`ReconciliationRepairStarted`, saved before the processor is asked (none without a
    command id: no retry could be told from another repair)."""
    if ctx.command_id is None:
        return
    started = ctx.model_copy(
        update={"command_id": _started_id(ctx.command_id), "causation_id": ctx.command_id}
    )

    def act(a: Account) -> None:
        a.start_repair(cmd.action.value, cmd.processor, subject, meta_of(deps, started))

    load_act_save(deps, cmd.account_id, started, act)


def _remove_method(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    """Removes from the ledger a method its processor no longer holds for the customer."""
    account = load_account(deps.app, cmd.account_id)
    method = account.methods.get(cmd.method_id or "")
    if method is None:
        raise MethodNotFound()
    processor = processor_of(method)
    linked = _linked(account, processor)
    if method.processor_ref in _refs_at(deps, processor, linked):
        raise RepairNotApplicable(f"{method.processor_ref} is still attached to {linked}")

    def change(a: Account, meta: EventMeta) -> None:
        a.remove_method(method.method_id, meta, even_if_needed=True)  # gone there already

    return Done(
        processor, method.method_id, f"removed: {method.processor_ref} is not there", change
    )


def _refs_at(deps: Deps, processor: Processor, customer_id: str) -> tuple[str, ...]:
    if processor is Processor.BRAINTREE:
        found = paypal_vault(deps).find_customer(customer_id)
        if found is None:
            raise ProviderCustomerNotFound(f"braintree has no customer {customer_id}")
        return found.method_refs
    return card_vault(deps).list_cards(customer_id)


# --- payments ----------------------------------------------------------------------------


def _resolve_attempt(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    """Records the processor's outcome of an attempt stuck in flight, as the janitor does."""
    account = load_account(deps.app, cmd.account_id)
    attempt = account.attempts.get(cmd.attempt_id or "")
    if attempt is None:
        raise AttemptNotFound()
    if not attempt.in_flight:
        raise RepairNotApplicable(f"attempt {attempt.attempt_id} is {attempt.status.value}")
    if deps.clock.now() - attempt.started_at < SETTLE_AFTER:
        raise AttemptInFlight("the payment may still be in progress: wait before resolving it")
    found = deps.gateway.find_charge(attempt.attempt_id, attempt.processor)
    if found is not None and found.requires_action:
        raise RepairNotApplicable("the processor is waiting for the customer to authenticate")
    charge = found or ChargeResult(succeeded=False, decline_code=NOT_RECEIVED)

    def change(a: Account, meta: EventMeta) -> None:
        if not apply_charge(deps, a, attempt.attempt_id, charge, meta, NOT_RECEIVED):
            raise RepairNotApplicable(f"attempt {attempt.attempt_id} was settled meanwhile")

    outcome = "succeeded" if charge.succeeded else f"failed ({charge.decline_code})"
    return Done(attempt.processor, attempt.attempt_id, f"recorded as {outcome}", change)


def _record_refund(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    """Records a refund the processor made that the ledger does not show (its dashboard, or
    a notification that never arrived), with the processor's amount. A refund the ledger
    made (its id sent along, a crash lost the recording) is recorded under the ledger's id,
    as the refund webhook records it: a redelivered notification or a retried refund
    command then finds it recorded. `--refund` is either id."""
    account = load_account(deps.app, cmd.account_id)
    attempt = account.attempts.get(cmd.attempt_id or "")
    if attempt is None:
        raise AttemptNotFound()
    lookup = deps.processors.payments.get(attempt.processor)
    if lookup is None or attempt.processor_payment_id is None:
        raise RepairNotApplicable(f"{attempt.processor.value} refunds cannot be looked up")
    payment = lookup.find_payment(attempt.processor_payment_id)
    refunds = payment.refunds if payment is not None else ()
    refund = next((r for r in refunds if cmd.refund_id in (r.refund_id, r.ledger_refund_id)), None)
    if payment is None or refund is None:
        raise RepairNotApplicable(f"the processor shows no refund {cmd.refund_id}")
    if {refund.refund_id, refund.ledger_refund_id} & set(account.refund_ids):
        raise RepairNotApplicable(f"refund {refund.refund_id} is recorded already")
    record = RecordProcessorRefund(
        account_id=cmd.account_id,
        attempt_id=attempt.attempt_id,
        processor_payment_id=attempt.processor_payment_id,
        refund_id=refund.ledger_refund_id or refund.refund_id,
        amount=refund.amount,
        currency=payment.currency,
    )

    def change(a: Account, meta: EventMeta) -> None:
        if apply_refund(a, record, meta) is Outcome.ALREADY_RECORDED:
            raise RepairNotApplicable(f"refund {record.refund_id} was recorded meanwhile")

    detail = f"recorded {refund.amount} {payment.currency}"
    if refund.ledger_refund_id:
        detail += f" as the ledger's refund {refund.ledger_refund_id}"
    return Done(attempt.processor, refund.refund_id, detail, change)


def _record_dispute(deps: Deps, cmd: RepairReconciliation, ctx: CommandContext) -> Done:
    """Records a dispute the processor holds as the ledger does not: its opening (none is
    recorded for the payment), its closing (the ledger has it open), or both in one save (a
    dispute already decided at the processor), as the dispute webhooks record them
    (commands/processor_events.py). Never reopens or reverses a closed dispute."""
    account = load_account(deps.app, cmd.account_id)
    attempt = account.attempts.get(cmd.attempt_id or "")
    if attempt is None:
        raise AttemptNotFound()
    payment, dispute = _dispute_at_processor(deps, attempt, cmd.dispute_id)
    money = Money(dispute.amount, payment.currency)
    _require_behind(attempt, dispute)

    def change(a: Account, meta: EventMeta) -> None:
        if not _require_behind(a.attempts[attempt.attempt_id], dispute):
            a.open_dispute(attempt.attempt_id, dispute.dispute_id, money, meta)
        if dispute.state is not DisputeState.OPEN:
            a.close_dispute(attempt.attempt_id, dispute.state is DisputeState.WON, meta)

    return Done(
        attempt.processor,
        dispute.dispute_id,
        f"recorded the dispute {dispute.state.value}, {dispute.amount} {payment.currency}",
        change,
    )


def _require_behind(attempt: PaymentAttempt, dispute: ProcessorDispute) -> bool:
    """Whether the ledger has a dispute (open) for the payment; refused unless the ledger is
    behind the processor's `dispute`."""
    if attempt.dispute is None:
        return False
    ledger = LEDGER_DISPUTE_STATES[attempt.dispute]
    if ledger is not DisputeState.OPEN or dispute.state is DisputeState.OPEN:
        raise RepairNotApplicable(f"the ledger has the dispute {ledger.value} already")
    return True


def _dispute_at_processor(
    deps: Deps, attempt: PaymentAttempt, dispute_id: str | None
) -> tuple[ProcessorPayment, ProcessorDispute]:
    if dispute_id is None:
        raise RepairNotApplicable("--dispute (the processor's dispute id) is required")
    lookup = deps.processors.payments.get(attempt.processor)
    if lookup is None or attempt.processor_payment_id is None:
        raise RepairNotApplicable(f"{attempt.processor.value} disputes cannot be looked up")
    payment = lookup.find_payment(attempt.processor_payment_id)
    if payment is None or payment.disputes is None:
        raise RepairNotApplicable(f"{attempt.processor.value} was not asked about disputes")
    dispute = next((d for d in payment.disputes if d.dispute_id == dispute_id), None)
    if dispute is None:
        raise RepairNotApplicable(f"the processor shows no dispute {dispute_id}")
    return payment, dispute


_REPAIRS: dict[RepairAction, Repair] = {
    RepairAction.PUSH_CUSTOMER: _push_customer,
    RepairAction.ADOPT_CUSTOMER: _adopt_customer,
    RepairAction.PUSH_DEFAULT: _push_default,
    RepairAction.DETACH_METHOD: _detach_method,
    RepairAction.REMOVE_METHOD: _remove_method,
    RepairAction.RESOLVE_ATTEMPT: _resolve_attempt,
    RepairAction.RECORD_REFUND: _record_refund,
    RepairAction.RECORD_DISPUTE: _record_dispute,
}
