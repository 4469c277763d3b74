"""Recompute without I/O: the support-only request event and the compact change report."""

from __future__ import annotations

import pytest

from commands import accounts, base
from commands.models import CloseAccount, RecomputeAccount
from commands.recompute import recompute, recompute_account
from ledger import events as ev
from ledger.errors import SupportOnly
from projections.invoices import AccountInvoices
from projections.recompute import RecomputeInProgress, change_of
from tests.fakes.builders import customer_ctx, in_memory_deps, open_cmd, service_ctx, support_ctx
from tests.fakes.read_side import MemoryRefolds


def test_only_support_records_a_recompute_request_even_on_a_closed_account() -> None:
    deps = in_memory_deps()
    account_id = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    cmd = RecomputeAccount(account_id=account_id)
    for ctx in (service_ctx(), customer_ctx()):
        with pytest.raises(SupportOnly):
            recompute_account(deps, cmd, ctx, ["accounts"])
    accounts.close_account(deps, CloseAccount(account_id=account_id), service_ctx())
    before = base.load_account(deps.app, account_id)
    result = recompute_account(deps, cmd, support_ctx("ticket 5"), ["accounts", "invoices"])
    assert result.version == 3
    event = list(deps.app.events.get(account_id))[-1]
    assert isinstance(event, ev.AccountRecomputeRequested)
    assert event.projections == ["accounts", "invoices"]
    assert (event.meta.actor.kind.value, event.meta.reason) == ("support", "ticket 5")
    after = base.load_account(deps.app, account_id)
    assert (after.status, after.profile, after.receivable) == (
        before.status,
        before.profile,
        before.receivable,
    )


def test_a_change_reports_only_the_differing_fields_as_dotted_paths() -> None:
    assert change_of(None, None).changed is False
    same = AccountInvoices({}, frozenset({"x"}))
    assert change_of(same, AccountInvoices({})) == change_of(None, None)  # change sets ignored
    before = {"a": {"status": "void", "total": 10, "detail": {"lines": [1]}}}
    after = {"a": {"status": "open", "total": 10, "detail": {"lines": [1]}}, "b": {"n": 1}}
    change = change_of(before, after)
    assert change.changed
    assert change.before == {"a.status": "void"}
    assert change.after == {"a.status": "open", "b.n": 1}


def test_a_recompute_is_claimed_then_recorded_then_refolded_from_the_request() -> None:
    deps = in_memory_deps()
    account_id = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    refolds = MemoryRefolds(["accounts"], lambda a: len(list(deps.app.events.get(a))))
    cmd = RecomputeAccount(account_id=account_id)
    result, events_refolded = recompute(deps, refolds, cmd, support_ctx("ticket 9"))
    assert (result.version, events_refolded) == (2, 2)  # the request event is refolded too
    assert refolds.log == ["claimed", "refolded", "released"]


def test_a_recompute_refused_by_its_claim_records_nothing() -> None:
    deps = in_memory_deps()
    account_id = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    refolds = MemoryRefolds(["accounts"], lambda a: 0)
    refolds.busy.add(account_id)
    with pytest.raises(RecomputeInProgress):
        recompute(deps, refolds, RecomputeAccount(account_id=account_id), support_ctx("t"))
    assert base.load_account(deps.app, account_id).version == 1
    assert refolds.log == []
