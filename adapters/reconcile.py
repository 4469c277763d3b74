"""Reconciliation jobs: check accounts against the processors and store what each check
found (the `reconciliation_*` read model), one account at a time. Used by the CLI
(`ledger reconcile`), the support surface, the Stripe `customer.updated` webhook, and after
every repair.

A check of one account that fails (the account is unknown, the store is busy) is counted
as an error of the run, which goes on; a processor outage is already an error inside the
check (recorded with it), not a failure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import structlog

from adapters.bootstrap import Container
from adapters.postgres.reconciliation import store_check
from commands.base import load_account
from commands.errors import AccountNotFound
from commands.models import CommandContext, RepairReconciliation
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


def reconcile_account(container: Container, account_id: UUID) -> AccountCheck:
    """Checks the account and stores the result. Raises AccountNotFound."""
    check = check_account(container.deps, account_id)
    with container.connection() as conn:
        store_check(conn, check)
    log.info(
        "reconcile.checked",
        account_id=str(account_id),
        findings=len(check.findings),
        errors=len(check.errors),
    )
    return check


def reconcile_many(
    container: Container,
    account_ids: Iterable[UUID],
    progress: Callable[[UUID, AccountCheck | None], None] | None = None,
) -> RunSummary:
    summary = RunSummary()
    for account_id in account_ids:
        check: AccountCheck | None = None
        try:
            check = reconcile_account(container, account_id)
        except DomainError as error:
            summary.failed[account_id] = f"{error.code}: {error.detail}"
            log.warning("reconcile.failed", account_id=str(account_id), code=error.code)
        else:
            summary.add(check)
        if progress is not None:
            progress(account_id, check)
    return summary


def repair_and_recheck(
    container: Container, cmd: RepairReconciliation, ctx: CommandContext
) -> tuple[RepairOutcome, AccountCheck]:
    """Runs the repair, then checks the account again (stored): the caller sees whether the
    finding is gone and what remains."""
    outcome = repair(container.deps, cmd, ctx)
    return outcome, reconcile_account(container, cmd.account_id)


def on_customer_updated(container: Container, event: dict[str, Any]) -> str:
    """Stripe `customer.updated`: the account named in the customer's metadata is
    reconciled (drift shown in its findings); the profile is never written from here."""
    metadata = event["data"]["object"].get("metadata") or {}
    account = metadata.get("account_id")
    if not account:
        return "not_ours"
    try:
        account_id = UUID(str(account))
    except ValueError:
        return "not_ours"
    try:
        if _echo_of_our_sync(container, account_id, event["data"]["object"]):
            return "in_step"
        reconcile_account(container, account_id)
    except AccountNotFound:
        return "refused"
    return "reconciled"


def _echo_of_our_sync(container: Container, account_id: UUID, customer: dict[str, Any]) -> bool:
    """The customer holds what the ledger last wrote there: the event is our own sync coming
    back (every profile edit causes one), and nothing can have drifted; a whole check of
    the account (one lookup per payment) would be wasted on it."""
    synced = load_account(container.app, account_id).provider_synced.get("stripe")
    return synced is not None and synced == {
        "customer_id": customer.get("id"),
        "name": customer.get("name") or "",
        "email": customer.get("email") or "",
    }
