"""Support's ways with unpaid invoices and bad debt: paying every uncollectible invoice
(the guarded path out of bad debt), recording money that arrived outside the ledger, and
marking an open invoice uncollectible by hand, writing an uncollectible invoice off."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from commands.base import CommandResult, Deps, load_account, load_act_save, meta_of
from commands.collect import PaymentOutcome, collect_on
from commands.errors import CommandIdRequired, InvoiceNotUncollectible, NoBadDebt
from commands.models import (
    CommandContext,
    MarkUncollectible,
    PayBadDebt,
    RecordOutOfBandPayment,
    WriteOffBadDebt,
)
from ledger.account import Account
from ledger.errors import SupportOnly
from ledger.invoices import InvoiceNotFound, InvoiceStatus
from ledger.meta import ActorKind
from ledger.payments import AttemptPurpose, AttemptStatus


def record_out_of_band_payment(
    deps: Deps, cmd: RecordOutOfBandPayment, ctx: CommandContext
) -> CommandResult:
    """Money that arrived outside the ledger's own attempts (a bank transfer, a payment
    made at the processor's dashboard). Recovering bad debt this way is support's call."""

    def act(account: Account) -> None:
        account.pay_out_of_band(cmd.invoice_id, cmd.processor, cmd.reference, meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


def mark_uncollectible(deps: Deps, cmd: MarkUncollectible, ctx: CommandContext) -> CommandResult:
    """An open or past-due invoice marked uncollectible by support (dunning does it itself
    when its schedule is exhausted): the account is in bad debt from then on."""
    if ctx.actor_kind is not ActorKind.SUPPORT:
        raise SupportOnly("marking an invoice uncollectible by hand is a support action")

    def act(account: Account) -> None:
        account.mark_uncollectible(cmd.invoice_id, meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


def write_off_bad_debt(deps: Deps, cmd: WriteOffBadDebt, ctx: CommandContext) -> CommandResult:
    def act(account: Account) -> None:
        if account.invoices.get(cmd.invoice_id) is None or (
            account.invoices[cmd.invoice_id].status is not InvoiceStatus.UNCOLLECTIBLE
        ):
            raise NoBadDebt("that invoice is not uncollectible")
        account.void_invoice(cmd.invoice_id, meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)


@dataclass(frozen=True)
class BadDebtReport:
    account_id: UUID
    payments: list[PaymentOutcome]
    recovered: list[str]
    still_uncollectible: list[str]
    bad_debt: bool
    version: int  # the account's stream version after the payments (read-your-writes)


_BAD_DEBT_NAMESPACE = UUID("e5b8a1c4-9d2f-4e6a-8b7c-1f0a3d5e9c21")


def pay_bad_debt(deps: Deps, cmd: PayBadDebt, ctx: CommandContext) -> BadDebtReport:
    """The guarded path out of bad debt: charges every uncollectible invoice (or those of
    `invoice_ids`) with an attempt whose id comes from the command id and the invoice, so
    repeating the request never charges twice. The flag (derived) clears only when nothing
    uncollectible remains. The account is loaded once: each payment acts on the account the
    payment before saved."""
    if ctx.command_id is None:
        raise CommandIdRequired("PayBadDebt needs an idempotency key")
    account = load_account(deps.app, cmd.account_id)
    targets = _bad_debt_targets(account, ctx.command_id)
    if cmd.invoice_ids is not None:
        targets = _chosen(account, targets, cmd.invoice_ids)
    if not targets:
        raise NoBadDebt()
    payments = []
    for invoice_id, attempt_id in targets:
        payment, account = collect_on(
            deps, account, invoice_id, cmd.method_id, AttemptPurpose.BAD_DEBT, attempt_id, ctx
        )
        payments.append(payment)
    return BadDebtReport(
        account_id=cmd.account_id,
        payments=payments,
        recovered=[p.invoice_id for p in payments if p.status is AttemptStatus.SUCCEEDED],
        still_uncollectible=[
            i.invoice_id
            for i in account.invoices.values()
            if i.status is InvoiceStatus.UNCOLLECTIBLE
        ],
        bad_debt=account.bad_debt,
        version=account.version,
    )


def _bad_debt_targets(account: Account, command_id: UUID) -> list[tuple[str, str]]:
    """(invoice, attempt id) for each invoice this request pays: the uncollectible ones, and
    on a repeat the ones it already paid (so the repeat reports the same outcome)."""
    targets = []
    for invoice in sorted(account.invoices.values(), key=lambda i: i.finalized_at or i.created_at):
        attempt_id = str(uuid5(_BAD_DEBT_NAMESPACE, f"{command_id}:{invoice.invoice_id}"))
        if invoice.status is InvoiceStatus.UNCOLLECTIBLE or attempt_id in account.attempts:
            targets.append((invoice.invoice_id, attempt_id))
    return targets


def _chosen(
    account: Account, targets: list[tuple[str, str]], invoice_ids: list[str]
) -> list[tuple[str, str]]:
    """The targets of the invoices asked for; each must be on the account and a target
    (uncollectible, or already attempted by this request)."""
    for invoice_id in invoice_ids:
        if invoice_id not in account.invoices:
            raise InvoiceNotFound(f"no invoice {invoice_id} on this account")
        if all(target != invoice_id for target, _ in targets):
            status = account.invoices[invoice_id].status.value
            raise InvoiceNotUncollectible(
                f"invoice {invoice_id} is {status}, not uncollectible: paying bad debt"
                " charges uncollectible invoices only"
            )
    return [t for t in targets if t[0] in invoice_ids]
