"""Reconciliation jobs: check accounts against the processors and keep what each check
found (a CheckStore: the `reconciliation_*` read model), one account at a time. Used by the
CLI (`ledger reconcile`), the support surface, the Stripe `customer.updated` webhook, and
after every repair.

A check of one account that fails (the account is unknown, the store is busy) is counted
as an error of the run, which goes on; a processor outage is already an error inside the
check (recorded with it), not a failure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from uuid import UUID

import structlog

from commands.base import Deps, load_account
from commands.errors import AccountNotFound
from commands.models import CommandContext, RepairReconciliation
from commands.ports import CheckStore, ProviderCustomer
from commands.reconcile import AccountCheck, check_account
from commands.reconcile_repairs import RepairOutcome, repair
from ledger.errors import DomainError

log = structlog.get_logger("reconcile")


@dataclass
class RunSummary:
    accounts: int = 0
    in_step: int = 0  # no findings and every processor answered
    with_findings: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    processor_errors: Counter[str] = field(default_factory=Counter)  # processor -> count
    failed: dict[UUID, str] = field(default_factory=dict)  # account -> why not checked

    def add(self, check: AccountCheck) -> None:
        self.accounts += 1
        self.in_step += not check.findings and not check.errors
        self.with_findings += bool(check.findings)
        self.by_kind.update(f.kind.value for f in check.findings)
        self.processor_errors.update(e.processor.value for e in check.errors)


def reconcile_account(deps: Deps, checks: CheckStore, account_id: UUID) -> AccountCheck:
    """Checks the account and stores the result. Raises AccountNotFound."""
    check = check_account(deps, account_id)
    checks.store(check)
    log.info(
        "reconcile.checked",
        account_id=str(account_id),
        findings=len(check.findings),
        errors=len(check.errors),
    )
    return check


def reconcile_many(
    deps: Deps,
    checks: CheckStore,
    account_ids: Iterable[UUID],
    progress: Callable[[UUID, AccountCheck | None], None] | None = None,
) -> RunSummary:
    summary = RunSummary()
    for account_id in account_ids:
        check: AccountCheck | None = None
        try:
            check = reconcile_account(deps, checks, account_id)
        except DomainError as error:
            summary.failed[account_id] = f"{error.code}: {error.detail}"
            log.warning("reconcile.failed", account_id=str(account_id), code=error.code)
        else:
            summary.add(check)
        if progress is not None:
            progress(account_id, check)
    return summary


def repair_and_recheck(
    deps: Deps, checks: CheckStore, cmd: RepairReconciliation, ctx: CommandContext
) -> tuple[RepairOutcome, AccountCheck]:
    """Runs the repair, then checks the account again (stored): the caller sees whether the
    finding is gone and what remains."""
    outcome = repair(deps, cmd, ctx)
    return outcome, reconcile_account(deps, checks, cmd.account_id)


def on_customer_changed(
    deps: Deps, checks: CheckStore, account_id: UUID, customer: ProviderCustomer
) -> str:
    """The processor says the account's customer changed: the account is reconciled (drift
    shown in its findings; the profile is never written from here), unless the customer
    holds what the ledger last wrote there (`in_step`). `refused` for an unknown account."""
    try:
        if _echo_of_our_sync(deps, account_id, customer):
            return "in_step"
        reconcile_account(deps, checks, account_id)
    except AccountNotFound:
        return "refused"
    return "reconciled"


def _echo_of_our_sync(deps: Deps, account_id: UUID, customer: ProviderCustomer) -> bool:
    """The customer holds what the ledger last wrote there: the event is our own sync coming
    back (every profile edit causes one), and nothing can have drifted; a whole check of
    the account (one lookup per payment) would be wasted on it."""
    synced = load_account(deps.app, account_id).provider_synced.get("stripe")
    return synced is not None and synced == {
        "customer_id": customer.customer_id,
        "name": customer.name or "",
        "email": customer.email or "",
    }
