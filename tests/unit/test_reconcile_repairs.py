"""Reconciliation repairs with fakes: support only, a reason always, the record of the
repair on the account, and a crash or a conflict at the save of a repair: retried under the
same command id, the repair and its record are saved once, together."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from commands import accounts
from commands.base import Deps, ProcessorAccounts, fingerprint, load_account
from commands.customers import sync_customer
from commands.errors import CommandIdReused, ConcurrencyConflict, ProcessorNotConfigured
from commands.models import RepairAction, RepairReconciliation, SyncProviderCustomer
from commands.ports import ProcessorPayment, ProcessorRefund, ProcessorUnavailable
from commands.reconcile_repairs import repair
from ledger import events as ev
from ledger.account.identity import ProfileUpdated
from ledger.errors import InvalidProfile, ReasonRequired, SupportOnly
from ledger.payments import AttemptStatus, Processor
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.builders import in_memory_deps, open_cmd, service_ctx, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.customers import FakeCustomers
from tests.fakes.failing_store import fail_saves_of
from tests.fakes.gateway import FakeGateway
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


def test_a_repair_start_is_recorded_for_support_with_a_reason_only() -> None:
    account = given()
    with pytest.raises(SupportOnly):
        account.start_repair("detach-method", Processor.STRIPE, "pm_1", customer())
    with pytest.raises(ReasonRequired):
        account.start_repair("detach-method", Processor.STRIPE, "pm_1", support(reason=""))
    account.start_repair("detach-method", Processor.STRIPE, "pm_1", support())
    [started] = account.collect_events()
    assert isinstance(started, ev.ReconciliationRepairStarted)
    assert (started.repair, started.processor, started.subject) == (
        "detach-method",
        "stripe",
        "pm_1",
    )


def test_the_handler_asks_for_support_and_a_reason_before_anything_else() -> None:
    deps = in_memory_deps()
    account_id = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    cmd = RepairReconciliation(account_id=account_id, action=RepairAction.PUSH_CUSTOMER)
    with pytest.raises(SupportOnly):
        repair(deps, cmd, service_ctx())
    with pytest.raises(ReasonRequired):
        repair(deps, cmd, support_ctx(reason=None))
    with pytest.raises(ProcessorNotConfigured):  # no Stripe in these deps: nothing recorded
        repair(deps, cmd, support_ctx("ticket 1"))
    assert deps.app.repository.get(account_id).version == 1


# --- a crash or a conflict between a repair's effect and its record ----------------------


class Payments:
    """The processor's view of payments (PaymentLookup), set by the test."""

    def __init__(self) -> None:
        self.payments: dict[str, ProcessorPayment] = {}

    def find_payment(self, processor_payment_id: str) -> ProcessorPayment | None:
        return self.payments.get(processor_payment_id)


def fails_saving_the_record(deps: Deps, failure: Callable[[], Exception], times: int) -> Deps:
    """Deps whose store fails `times` saves that carry a ReconciliationRepaired (a crash, or
    a rival's save, at the record of the repair), then saves normally."""
    fail_saves_of(deps.app, ev.ReconciliationRepaired, failure, times)
    return deps


def repaired(deps: Deps, account_id: UUID) -> list[ev.ReconciliationRepaired]:
    events = deps.app.repository.event_store.get(account_id)
    return [e for e in events if isinstance(e, ev.ReconciliationRepaired)]


def refunds_issued(deps: Deps, account_id: UUID) -> list[ev.RefundIssued]:
    events = deps.app.repository.event_store.get(account_id)
    return [e for e in events if isinstance(e, ev.RefundIssued)]


def paid_with_a_dashboard_refund(deps: Deps) -> tuple[Deps, UUID, str]:
    """A paid attempt and a 300 refund made at Stripe's dashboard the ledger never saw."""
    account_id = usd_account(deps)
    payment = subscribe(deps, account_id, on_session=False).payment
    assert payment is not None
    attempt = load_account(deps.app, account_id).attempts[payment.attempt_id]
    assert attempt.processor_payment_id is not None
    lookup = Payments()
    refund = ProcessorRefund("re_dash", None, 300)
    lookup.payments[attempt.processor_payment_id] = ProcessorPayment(
        attempt.processor_payment_id, attempt.amount.amount, "USD", (refund,)
    )
    with_lookup = ProcessorAccounts(payments={Processor.STRIPE: lookup})
    return dataclasses.replace(deps, processors=with_lookup), account_id, attempt.attempt_id


FAILURES: dict[str, tuple[Callable[[], Exception], int]] = {
    "crash": (lambda: RuntimeError("the process died before the record"), 1),
    "conflict": (lambda: IntegrityError("a rival saved first"), 5),  # every retry: gives up
}
RAISED = {"crash": RuntimeError, "conflict": ConcurrencyConflict}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_record_refund_interrupted_at_its_record_is_recorded_once_by_the_retry(
    failure: str,
) -> None:
    deps, account_id, attempt_id = paid_with_a_dashboard_refund(in_memory_deps())
    failing = fails_saving_the_record(deps, *FAILURES[failure])
    cmd = RepairReconciliation(
        account_id=account_id,
        action=RepairAction.RECORD_REFUND,
        attempt_id=attempt_id,
        refund_id="re_dash",
    )
    ctx = support_ctx("refund made at the dashboard", uuid4())
    with pytest.raises(RAISED[failure]):
        repair(failing, cmd, ctx)
    assert load_account(deps.app, account_id).attempts[attempt_id].refunded == 0  # neither

    outcome = repair(failing, cmd, ctx)  # the retry, same command id
    assert outcome.detail == "recorded 300 USD"
    assert repair(failing, cmd, ctx).result.replayed  # and once more: nothing new
    assert load_account(deps.app, account_id).attempts[attempt_id].refunded == 300
    assert [e.refund_id for e in refunds_issued(deps, account_id)] == ["re_dash"]
    [record] = repaired(deps, account_id)
    assert (record.repair, record.subject, record.meta.reason) == (
        "record-refund",
        "re_dash",
        "refund made at the dashboard",
    )
    assert record.meta.command_id == ctx.command_id


@pytest.mark.parametrize("failure", FAILURES)
def test_a_resolve_attempt_interrupted_at_its_record_is_recorded_once_by_the_retry(
    failure: str,
) -> None:
    clock, gateway = FixedClock(), FakeGateway()
    deps = in_memory_deps(clock, gateway)
    account_id = usd_account(deps)
    gateway.go_down_next(CARD)  # the charge is never made: the processor never saw it
    with pytest.raises(ProcessorUnavailable):
        subscribe(deps, account_id, on_session=False)
    [attempt] = load_account(deps.app, account_id).attempts.values()
    assert attempt.status is AttemptStatus.PENDING
    clock.advance(minutes=20)
    failing = fails_saving_the_record(deps, *FAILURES[failure])
    cmd = RepairReconciliation(
        account_id=account_id, action=RepairAction.RESOLVE_ATTEMPT, attempt_id=attempt.attempt_id
    )
    ctx = support_ctx("stuck since the outage", uuid4())
    with pytest.raises(RAISED[failure]):
        repair(failing, cmd, ctx)
    assert load_account(deps.app, account_id).attempts[attempt.attempt_id].in_flight  # neither

    outcome = repair(failing, cmd, ctx)
    assert outcome.detail == "recorded as failed (not_received_by_processor)"
    settled = load_account(deps.app, account_id).attempts[attempt.attempt_id]
    assert settled.status is AttemptStatus.FAILED
    [record] = repaired(deps, account_id)
    assert (record.repair, record.subject) == ("resolve-attempt", attempt.attempt_id)
    assert record.meta.command_id == ctx.command_id


def linked_at_stripe() -> tuple[Deps, FakeCustomers, UUID, str]:
    """An account whose customer the ledger created and synced at a (fake) Stripe."""
    stripe = FakeCustomers()
    deps = dataclasses.replace(
        in_memory_deps(), processors=ProcessorAccounts(stripe_customers=stripe)
    )
    account_id = accounts.open_account(deps, open_cmd(), service_ctx()).account_id
    sync_customer(deps, SyncProviderCustomer(account_id=account_id), service_ctx())
    return deps, stripe, account_id, load_account(deps.app, account_id).provider_customers["stripe"]


def of_kind(deps: Deps, account_id: UUID, kind: type[Any]) -> list[Any]:
    return [e for e in deps.app.repository.event_store.get(account_id) if isinstance(e, kind)]


def test_a_push_customer_interrupted_at_its_record_is_recorded_once_by_the_retry() -> None:
    deps, stripe, account_id, customer_id = linked_at_stripe()
    stripe.edit_at_processor(customer_id, name="Someone Else")
    failing = fails_saving_the_record(deps, *FAILURES["crash"])
    cmd = RepairReconciliation(account_id=account_id, action=RepairAction.PUSH_CUSTOMER)
    ctx = support_ctx("edited by mistake at Stripe", uuid4())
    with pytest.raises(RuntimeError):
        repair(failing, cmd, ctx)
    assert stripe.customers[customer_id].name == "Ada Lovelace"  # written, not yet recorded
    assert repaired(deps, account_id) == []

    repair(failing, cmd, ctx)  # the same profile again: no change there, recorded here
    assert repair(failing, cmd, ctx).result.replayed
    [record] = repaired(deps, account_id)
    assert (record.repair, record.subject, record.meta.reason) == (
        "push-customer",
        customer_id,
        "edited by mistake at Stripe",
    )
    [synced] = of_kind(deps, account_id, ev.ProviderCustomerSynced)  # the first sync's, still
    assert synced.name == "Ada Lovelace"


def test_a_repair_key_reused_for_another_repair_is_refused() -> None:
    deps, stripe, account_id, customer_id = linked_at_stripe()
    stripe.edit_at_processor(customer_id, name="Someone Else")
    cmd = RepairReconciliation(account_id=account_id, action=RepairAction.PUSH_CUSTOMER)
    ctx = support_ctx("edited by mistake at Stripe", uuid4())
    first = ctx.model_copy(update={"fingerprint": fingerprint("repair", cmd.model_dump())})
    repair(deps, cmd, first)
    other = RepairReconciliation(account_id=account_id, action=RepairAction.ADOPT_CUSTOMER)
    reused = ctx.model_copy(update={"fingerprint": fingerprint("repair", other.model_dump())})
    before = load_account(deps.app, account_id).version
    with pytest.raises(CommandIdReused):
        repair(deps, other, reused)
    assert load_account(deps.app, account_id).version == before
    assert repair(deps, cmd, first).result.replayed


def test_an_adopt_customer_interrupted_at_its_record_changes_nothing_until_the_retry() -> None:
    deps, stripe, account_id, customer_id = linked_at_stripe()
    stripe.edit_at_processor(customer_id, email="ada@analytical.org")
    failing = fails_saving_the_record(deps, *FAILURES["conflict"])
    cmd = RepairReconciliation(account_id=account_id, action=RepairAction.ADOPT_CUSTOMER)
    ctx = support_ctx("customer moved at Stripe", uuid4())
    with pytest.raises(ConcurrencyConflict):
        repair(failing, cmd, ctx)
    assert load_account(deps.app, account_id).profile.email == "ada@example.com"

    assert "email=ada@analytical.org" in repair(failing, cmd, ctx).detail
    account = load_account(deps.app, account_id)
    assert account.profile.email == "ada@analytical.org"
    assert account.provider_synced["stripe"]["email"] == "ada@analytical.org"
    *_, updated, synced, record = deps.app.repository.event_store.get(account_id)
    assert (type(updated), type(synced), type(record)) == (
        ProfileUpdated,
        ev.ProviderCustomerSynced,
        ev.ReconciliationRepaired,
    )
    assert len(repaired(deps, account_id)) == 1
    assert stripe.writes == [("create", customer_id)]  # nothing written at the processor


def test_adopting_a_customer_without_a_name_or_an_email_is_refused() -> None:
    deps, stripe, account_id, customer_id = linked_at_stripe()
    stripe.edit_at_processor(customer_id, email="")
    cmd = RepairReconciliation(account_id=account_id, action=RepairAction.ADOPT_CUSTOMER)
    version = load_account(deps.app, account_id).version
    with pytest.raises(InvalidProfile):
        repair(deps, cmd, support_ctx("customer moved at Stripe", uuid4()))
    assert load_account(deps.app, account_id).version == version
