"""Reconciliation's storage and edges (the jobs are commands/reconcile_runs.py): checks are
kept in the `reconciliation_*` read model, and Stripe's `customer.updated` is translated to
the account and customer it names."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from adapters.bootstrap import Container
from adapters.postgres.reconciliation import store_check
from commands import reconcile_runs
from commands.models import CommandContext, RepairReconciliation
from commands.ports import ProviderCustomer
from commands.reconcile import AccountCheck
from commands.reconcile_repairs import RepairOutcome


class StoredChecks:
    """commands.ports.CheckStore over the read-model database."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def store(self, check: AccountCheck) -> bool:
        with self._container.connection() as conn:
            return store_check(conn, check)


def reconcile_account(container: Container, account_id: UUID) -> AccountCheck:
    """Checks the account and stores the result. Raises AccountNotFound."""
    return reconcile_runs.reconcile_account(container.deps, StoredChecks(container), account_id)


def reconcile_many(
    container: Container,
    account_ids: Iterable[UUID],
    progress: Callable[[UUID, AccountCheck | None], None] | None = None,
) -> reconcile_runs.RunSummary:
    checks = StoredChecks(container)
    return reconcile_runs.reconcile_many(container.deps, checks, account_ids, progress)


def repair_and_recheck(
    container: Container, cmd: RepairReconciliation, ctx: CommandContext
) -> tuple[RepairOutcome, AccountCheck]:
    checks = StoredChecks(container)
    return reconcile_runs.repair_and_recheck(container.deps, checks, cmd, ctx)


def on_customer_updated(container: Container, event: dict[str, Any]) -> str:
    """Stripe `customer.updated`: the account named in the customer's metadata is
    reconciled (`not_ours` when it names none)."""
    customer = event["data"]["object"]
    account = (customer.get("metadata") or {}).get("account_id")
    if not account:
        return "not_ours"
    try:
        account_id = UUID(str(account))
    except ValueError:
        return "not_ours"
    remote = ProviderCustomer(
        customer_id=customer.get("id") or "",
        account_id=str(account_id),
        name=customer.get("name"),
        email=customer.get("email"),
        default_method_ref=None,
    )
    checks = StoredChecks(container)
    return reconcile_runs.on_customer_changed(container.deps, checks, account_id, remote)
