"""Reconciliation jobs with fakes: every check is kept, an account that cannot be checked
is counted and the run goes on, and Stripe's echo of the ledger's own sync is not checked."""

from __future__ import annotations

import dataclasses
from uuid import uuid4

from commands import accounts
from commands.base import ProcessorAccounts, load_account
from commands.customers import sync_customer
from commands.models import SyncProviderCustomer
from commands.reconcile_runs import on_customer_changed, reconcile_many
from ledger.payments import Processor
from tests.fakes.builders import in_memory_deps, open_cmd, service_ctx
from tests.fakes.customers import FakeCustomers
from tests.fakes.read_side import MemoryChecks


def test_a_run_keeps_every_check_and_counts_the_accounts_it_could_not_check() -> None:
    stripe = FakeCustomers()
    deps = dataclasses.replace(in_memory_deps(), processors=ProcessorAccounts(stripe))
    linked = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    sync_customer(deps, SyncProviderCustomer(account_id=linked), service_ctx())
    unlinked = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    unknown = uuid4()
    checks = MemoryChecks()
    seen = []
    summary = reconcile_many(
        deps, checks, [linked, unknown, unlinked], lambda a, c: seen.append((a, c is not None))
    )
    assert seen == [(linked, True), (unknown, False), (unlinked, True)]
    assert set(checks.checks) == {linked, unlinked}
    assert (summary.accounts, summary.in_step, summary.with_findings) == (2, 1, 1)
    assert dict(summary.by_kind) == {"customer_not_linked": 1}
    assert list(summary.failed) == [unknown]
    assert summary.failed[unknown].startswith("account_not_found")


def test_the_echo_of_the_ledgers_own_sync_is_not_checked_and_drift_is() -> None:
    stripe = FakeCustomers()
    deps = dataclasses.replace(in_memory_deps(), processors=ProcessorAccounts(stripe))
    account_id = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    sync_customer(deps, SyncProviderCustomer(account_id=account_id), service_ctx())
    customer_id = load_account(deps.app, account_id).provider_customers[Processor.STRIPE.value]
    checks = MemoryChecks()
    echo = stripe.get_customer(customer_id)
    assert echo is not None
    assert on_customer_changed(deps, checks, account_id, echo) == "in_step"
    assert checks.checks == {}
    edited = dataclasses.replace(echo, name="Someone Else")
    assert on_customer_changed(deps, checks, account_id, edited) == "reconciled"
    assert list(checks.checks) == [account_id]
    assert on_customer_changed(deps, checks, uuid4(), edited) == "refused"
