"""Reconciliation repairs, the rules that need no processor: support only, a reason always,
and the record of the repair on the account."""

from __future__ import annotations

import pytest

from commands import handlers
from commands.errors import ProcessorNotConfigured
from commands.models import RepairAction, RepairReconciliation
from commands.reconcile_repairs import repair
from ledger import events as ev
from ledger.errors import ReasonRequired, SupportOnly
from ledger.payments import Processor
from tests.fakes.builders import in_memory_deps, open_cmd, service_ctx, support_ctx
from tests.unit.given import customer, given, kinds, support


def test_a_repair_is_recorded_for_support_with_its_reason() -> None:
    account = given()
    account.record_repair("push-customer", Processor.STRIPE, "cus_1", "updated", support())
    [recorded] = account.collect_events()
    assert isinstance(recorded, ev.ReconciliationRepaired)
    assert (recorded.repair, recorded.processor, recorded.subject, recorded.detail) == (
        "push-customer",
        "stripe",
        "cus_1",
        "updated",
    )
    assert recorded.meta.reason == "customer asked by phone"


def test_a_repair_without_support_or_without_a_reason_is_refused() -> None:
    account = given()
    with pytest.raises(SupportOnly):
        account.record_repair("push-customer", Processor.STRIPE, "cus_1", "x", customer())
    with pytest.raises(ReasonRequired):
        account.record_repair("push-customer", Processor.STRIPE, "cus_1", "x", support(reason=""))
    assert kinds(list(account.collect_events())) == []


def test_the_handler_asks_for_support_and_a_reason_before_anything_else() -> None:
    deps = in_memory_deps()
    account_id = handlers.open_account(deps, open_cmd(), service_ctx()).account_id
    cmd = RepairReconciliation(account_id=account_id, action=RepairAction.PUSH_CUSTOMER)
    with pytest.raises(SupportOnly):
        repair(deps, cmd, service_ctx())
    with pytest.raises(ReasonRequired):
        repair(deps, cmd, support_ctx(reason=None))
    with pytest.raises(ProcessorNotConfigured):  # no Stripe in these deps: nothing recorded
        repair(deps, cmd, support_ctx("ticket 1"))
    assert deps.app.repository.get(account_id).version == 1
