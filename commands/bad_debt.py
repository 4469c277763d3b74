"""Support's ways with unpaid invoices and bad debt: paying every uncollectible invoice
(the guarded path out of bad debt), recording money that arrived outside the ledger, and
writing an uncollectible invoice off."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid5

from commands.base import CommandResult, Deps, load_account, load_act_save, meta_of
from commands.collect import PaymentOutcome, collect_on
from commands.errors import CommandIdRequired, NoBadDebt
from commands.models import CommandContext, PayBadDebt, RecordOutOfBandPayment, WriteOffBadDebt
from ledger.account import Account
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptPurpose, AttemptStatus


def record_out_of_band_payment(
    deps: Deps, cmd: RecordOutOfBandPayment, ctx: CommandContext
) -> CommandResult:
    """Money that arrived outside the ledger's own attempts (a bank transfer, a payment
    made at the processor's dashboard). Recovering bad debt this way is support's call."""

    def act(account: Account) -> None:
        account.pay_out_of_band(cmd.invoice_id, cmd.processor, cmd.reference, meta_of(deps, ctx))

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


_BAD_DEBT_NAMESPACE = UUID("e5b8a1c4-9d2f-4e6a-8b7c-1f0a3d5e9c21")


def pay_bad_debt(deps: Deps, cmd: PayBadDebt, ctx: CommandContext) -> BadDebtReport:
    """The guarded path out of bad debt: charges every uncollectible invoice with an attempt
    whose id comes from the command id and the invoice, so repeating the request never
    charges twice. The flag (derived) clears only when nothing uncollectible remains. The
    account is loaded once: each payment acts on the account the payment before saved."""
    if ctx.command_id is None:
        raise CommandIdRequired("PayBadDebt needs an idempotency key")
    account = load_account(deps.app, cmd.account_id)
    targets = _bad_debt_targets(account, ctx.command_id)
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
