"""Reconciliation against the real store and localstripe (official SDK): drift made at
Stripe is found and never overwritten by a plain sync, repairs (adopt, push, detach,
remove, resolve) are recorded with their reason and leave the account in step, a payment
the ledger left pending that Stripe took is found and resolved, a processor outage is an
error of that account's check while the run goes on, and the CLI drives all of it."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any
from uuid import UUID, uuid4

import pytest
import stripe
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.main import app as cli
from adapters.processors import RoutingGateway
from adapters.reconcile import reconcile_account, reconcile_many, repair_and_recheck
from adapters.stripe import Guard, StripeGateway
from adapters.webhooks.stripe_refunds import on_refund
from commands import billing, refunds
from commands.base import ProcessorAccounts, load_account, new_id_for
from commands.customers import sync_customer
from commands.errors import AccountNotFound, ProviderCustomerDrifted
from commands.models import (
    RefundPayment,
    RepairAction,
    RepairReconciliation,
    Subscribe,
    SyncProviderCustomer,
)
from commands.ports import (
    ChargeRequest,
    ChargeResult,
    PaymentGateway,
    ProcessorUnavailable,
    RefundRequest,
)
from commands.reconcile_compare import FindingKind, Repair
from commands.reconcile_repairs import RepairNotApplicable, repair
from ledger import events as ev
from ledger.errors import ReasonRequired
from ledger.invoices import InvoiceStatus
from ledger.money import Money
from ledger.payments import AttemptStatus, Processor
from queries.reconciliation import get_reconciliation
from tests.fakes.builders import customer_ctx, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.failing_store import fail_saves_of
from tests.harness import LocalStripeServer, free_port
from tests.integration.test_stripe_gateway import (  # noqa: F401 - the fixture
    FAST,
    card,
    sdk_client,
    stripe_account,
    stripe_container,
)

runner = CliRunner()


@pytest.fixture
def sdk(localstripe: LocalStripeServer) -> stripe.StripeClient:
    return sdk_client(localstripe)


def synced_account(c: Container, sdk: stripe.StripeClient) -> tuple[UUID, str, str]:
    """An account whose Stripe customer the ledger created (sync) with a default card."""
    return stripe_account(c, sdk)


def fix(
    c: Container,
    account_id: UUID,
    action: RepairAction,
    reason: str | None = "ticket 42",
    **more: Any,
) -> tuple[str, int]:
    cmd = RepairReconciliation(account_id=account_id, action=action, **more)
    outcome, after = repair_and_recheck(c, cmd, support_ctx(reason))
    return outcome.detail, len(after.findings)


def events_of(c: Container, account_id: UUID) -> list[Any]:
    return list(c.app.events.get(account_id))


def stored_kinds(c: Container, account_id: UUID) -> list[str]:
    with c.connection() as conn:
        view = get_reconciliation(conn, account_id)
    assert view is not None
    return [f.kind for f in view.findings]


def test_an_account_the_ledger_synced_is_in_step_and_stored_so(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    account_id, _, _ = synced_account(stripe_container, sdk)
    check = reconcile_account(stripe_container, account_id)
    assert (check.findings, check.errors) == ((), ())
    with stripe_container.connection() as conn:
        view = get_reconciliation(conn, account_id)
    assert view is not None
    assert (view.in_step, view.account_version, view.by_kind) == (True, check.account_version, {})


def test_drift_at_stripe_is_found_refused_by_a_sync_and_adopted_by_an_explicit_repair(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    c = stripe_container
    account_id, customer, _ = synced_account(c, sdk)
    sdk.v1.customers.update(customer, {"email": "ada@analytical.org"})

    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.subject) == (FindingKind.CUSTOMER_DRIFTED, customer)
    assert (found.ledger_value, found.processor_value) == (
        "email=ada@example.com",
        "email=ada@analytical.org",
    )
    assert stored_kinds(c, account_id) == ["customer_drifted"]
    with pytest.raises(ProviderCustomerDrifted):
        sync_customer(c.deps, SyncProviderCustomer(account_id=account_id), customer_ctx())
    assert sdk.v1.customers.retrieve(customer).email == "ada@analytical.org"  # not overwritten

    with pytest.raises(ReasonRequired):
        fix(c, account_id, RepairAction.ADOPT_CUSTOMER, reason=None)
    detail, left = fix(c, account_id, RepairAction.ADOPT_CUSTOMER, "customer moved at Stripe")
    assert left == 0
    assert "email=ada@analytical.org" in detail
    account = load_account(c.app, account_id)
    assert account.profile.email == "ada@analytical.org"
    assert account.provider_synced["stripe"]["email"] == "ada@analytical.org"
    *_, updated, synced, repaired = events_of(c, account_id)
    assert [type(e).__name__ for e in (updated, synced, repaired)] == [
        "ProfileUpdated",
        "ProviderCustomerSynced",
        "ReconciliationRepaired",
    ]
    assert (repaired.repair, repaired.processor, repaired.subject) == (
        "adopt-customer",
        "stripe",
        customer,
    )
    assert repaired.meta.reason == "customer moved at Stripe"
    assert stored_kinds(c, account_id) == []


def test_a_push_repair_writes_the_profile_back_over_the_drift(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    c = stripe_container
    account_id, customer, _ = synced_account(c, sdk)
    sdk.v1.customers.update(customer, {"name": "Someone Else"})
    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.processor_value) == (
        FindingKind.CUSTOMER_DRIFTED,
        "name=Someone Else",
    )

    detail, left = fix(c, account_id, RepairAction.PUSH_CUSTOMER, "edited by mistake at Stripe")
    assert (detail, left) == ("customer updated from the profile", 0)
    assert sdk.v1.customers.retrieve(customer).name == "Ada Lovelace"
    assert load_account(c.app, account_id).profile.name == "Ada Lovelace"
    repaired = events_of(c, account_id)[-1]
    assert (type(repaired).__name__, repaired.meta.reason) == (
        "ReconciliationRepaired",
        "edited by mistake at Stripe",
    )


def test_cards_attached_or_detached_behind_the_ledgers_back_are_found_and_repaired(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    c = stripe_container
    account_id, customer, method = synced_account(c, sdk)
    stray = card(sdk)
    sdk.v1.payment_methods.attach(stray, {"customer": customer})

    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.subject, found.processor_value) == (
        FindingKind.METHOD_UNKNOWN_TO_LEDGER,
        stray,
        "attached",
    )
    assert found.repairs == (
        Repair(RepairAction.DETACH_METHOD, processor=Processor.STRIPE, method_ref=stray),
    )
    with pytest.raises(RepairNotApplicable):  # the ledger's own card is never detached
        fix(c, account_id, RepairAction.DETACH_METHOD, method_ref=method)
    assert fix(c, account_id, RepairAction.DETACH_METHOD, method_ref=stray)[1] == 0
    assert sdk.v1.payment_methods.retrieve(stray).customer is None

    sdk.v1.payment_methods.detach(method)
    kinds = [f.kind for f in reconcile_account(c, account_id).findings]
    assert kinds == [FindingKind.METHOD_MISSING_AT_PROCESSOR]
    [method_id] = load_account(c.app, account_id).methods
    assert fix(c, account_id, RepairAction.REMOVE_METHOD, method_id=method_id)[1] == 0
    assert not load_account(c.app, account_id).methods[method_id].usable


def test_a_detach_whose_record_was_lost_is_recorded_once_by_the_retry(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    """The card is detached at Stripe, then the save of the repair's record fails: the
    retry (same command id) finds the card detached and its own start, and records the
    repair once. Another command finding the card gone is refused, as a stale finding."""
    c = stripe_container
    account_id, customer, _ = synced_account(c, sdk)
    stray = card(sdk)
    sdk.v1.payment_methods.attach(stray, {"customer": customer})
    fail_saves_of(c.deps.app, ev.ReconciliationRepaired, lambda: RuntimeError("crash"), 1)
    cmd = RepairReconciliation(
        account_id=account_id, action=RepairAction.DETACH_METHOD, method_ref=stray
    )
    ctx = support_ctx("attached by hand at Stripe", uuid4())
    with pytest.raises(RuntimeError):
        repair(c.deps, cmd, ctx)
    assert sdk.v1.payment_methods.retrieve(stray).customer is None  # detached, not recorded
    assert [type(e).__name__ for e in events_of(c, account_id)][-1] == (
        "ReconciliationRepairStarted"
    )

    with pytest.raises(RepairNotApplicable):  # another command: nothing says it was its own
        repair(c.deps, cmd, support_ctx("attached by hand at Stripe", uuid4()))
    assert repair(c.deps, cmd, ctx).detail == f"{stray} detached from {customer}"
    assert repair(c.deps, cmd, ctx).result.replayed
    started, record = [
        e
        for e in events_of(c, account_id)
        if type(e).__name__ in ("ReconciliationRepairStarted", "ReconciliationRepaired")
    ]
    assert (type(started).__name__, started.subject, started.meta.causation_id) == (
        "ReconciliationRepairStarted",
        stray,
        ctx.command_id,
    )
    assert (type(record).__name__, record.subject, record.meta.command_id) == (
        "ReconciliationRepaired",
        stray,
        ctx.command_id,
    )
    assert record.meta.reason == "attached by hand at Stripe"
    assert reconcile_account(c, account_id).findings == ()


def test_a_default_changed_at_stripe_is_a_mismatch_the_push_default_repair_undoes(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    c = stripe_container
    account_id, customer, method = synced_account(c, sdk)
    other = card(sdk)
    sdk.v1.payment_methods.attach(other, {"customer": customer})
    sdk.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": other}})
    kinds = {f.kind: f for f in reconcile_account(c, account_id).findings}
    mismatch = kinds[FindingKind.DEFAULT_MISMATCH]
    assert (mismatch.ledger_value, mismatch.processor_value) == (method, other)
    fix(c, account_id, RepairAction.PUSH_DEFAULT)
    default = sdk.v1.customers.retrieve(customer).invoice_settings
    assert default is not None
    assert default.default_payment_method == method
    assert stored_kinds(c, account_id) == ["method_unknown_to_ledger"]


class LosesTheAnswer:
    """Charges at Stripe for real, then loses the answer (a timeout after the charge)."""

    def __init__(self, real: PaymentGateway) -> None:
        self.real = real

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.real.charge(request)
        raise ProcessorUnavailable("the answer was lost")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_payment_left_pending_that_stripe_took_is_found_and_resolved_by_a_repair(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
    clock: FixedClock,
) -> None:
    c = stripe_container
    account_id, _, _ = synced_account(c, sdk)
    lossy = dataclasses.replace(c.deps, gateway=LosesTheAnswer(c.deps.gateway))
    cmd = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(lossy, cmd, customer_ctx())
    [attempt] = load_account(c.app, account_id).attempts.values()
    assert attempt.status is AttemptStatus.PENDING

    assert reconcile_account(c, account_id).findings == ()  # in flight: not yet a mismatch
    clock.advance(minutes=20)
    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.subject, found.ledger_value, found.processor_value) == (
        FindingKind.ATTEMPT_UNRESOLVED,
        attempt.attempt_id,
        "pending",
        "succeeded",
    )
    detail, left = fix(c, account_id, RepairAction.RESOLVE_ATTEMPT, attempt_id=attempt.attempt_id)
    assert (detail, left) == ("recorded as succeeded", 0)
    account = load_account(c.app, account_id)
    settled = account.attempts[attempt.attempt_id]
    assert settled.status is AttemptStatus.SUCCEEDED
    assert settled.processor_payment_id is not None
    assert settled.processor_payment_id.startswith("pi_")
    assert account.invoices[attempt.invoice_id].status is InvoiceStatus.PAID
    with pytest.raises(RepairNotApplicable):
        fix(c, account_id, RepairAction.RESOLVE_ATTEMPT, attempt_id=attempt.attempt_id)


def test_a_refund_made_at_stripe_is_found_and_recorded_by_a_repair(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    c = stripe_container
    account_id, _, _ = synced_account(c, sdk)
    cmd = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False)
    paid = billing.subscribe(c.deps, cmd, customer_ctx()).payment
    assert paid is not None
    refund = RefundPayment(account_id=account_id, attempt_id=paid.attempt_id, amount=500)
    refunds.refund_payment(c.deps, refund, support_ctx("partial refund", uuid4()))
    assert reconcile_account(c, account_id).findings == ()  # matched by the ledger's id

    payment_id = load_account(c.app, account_id).attempts[paid.attempt_id].processor_payment_id
    assert payment_id is not None
    made = sdk.v1.refunds.create({"payment_intent": payment_id, "amount": 300})
    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.subject, found.processor_value) == (
        FindingKind.REFUND_UNKNOWN_TO_LEDGER,
        made.id,
        "300 USD",
    )
    detail, left = fix(
        c, account_id, RepairAction.RECORD_REFUND, attempt_id=paid.attempt_id, refund_id=made.id
    )
    assert (detail, left) == ("recorded 300 USD", 0)
    assert load_account(c.app, account_id).attempts[paid.attempt_id].refunded == 800
    with pytest.raises(RepairNotApplicable):
        fix(
            c, account_id, RepairAction.RECORD_REFUND, attempt_id=paid.attempt_id, refund_id=made.id
        )


def test_a_ledger_refund_whose_recording_was_lost_is_repaired_under_the_ledgers_id(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
) -> None:
    """Stripe refunded with the ledger's refund id, then the recording was lost (a crash):
    the repair records it under that id, so the refund command retried and the webhook
    redelivered find it recorded (refunded once)."""
    c = stripe_container
    account_id, _, _ = synced_account(c, sdk)
    cmd = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False)
    paid = billing.subscribe(c.deps, cmd, customer_ctx()).payment
    assert paid is not None
    payment_id = load_account(c.app, account_id).attempts[paid.attempt_id].processor_payment_id
    assert payment_id is not None
    refund_ctx = support_ctx("partial refund", uuid4())
    ours = new_id_for(c.deps, refund_ctx, "refund")  # the id the refund command sends
    made = c.deps.gateway.refund(
        RefundRequest(ours, Processor.STRIPE, payment_id, Money(500, "USD"))
    )  # ... and the recording never happens

    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.subject, found.processor_value) == (
        FindingKind.REFUND_UNKNOWN_TO_LEDGER,
        made,
        "500 USD",
    )
    detail, left = fix(
        c, account_id, RepairAction.RECORD_REFUND, attempt_id=paid.attempt_id, refund_id=made
    )
    assert (detail, left) == (f"recorded 500 USD as the ledger's refund {ours}", 0)
    assert load_account(c.app, account_id).refund_ids == {ours: paid.attempt_id}
    recorded = len(events_of(c, account_id))

    refund = RefundPayment(account_id=account_id, attempt_id=paid.attempt_id, amount=500)
    refunds.refund_payment(c.deps, refund, refund_ctx)  # the refund command, retried
    delivered = {
        "id": f"evt_{uuid4().hex[:16]}",
        "type": "refund.created",
        "data": {"object": sdk.v1.refunds.retrieve(made).to_dict()},
    }
    assert on_refund(c, delivered) == "already_recorded"  # the notification, late
    assert on_refund(c, delivered) == "already_recorded"  # and redelivered

    assert len(events_of(c, account_id)) == recorded
    assert load_account(c.app, account_id).attempts[paid.attempt_id].refunded == 500
    issued = [e for e in events_of(c, account_id) if type(e).__name__ == "RefundIssued"]
    assert [(e.refund_id, e.amount) for e in issued] == [(ours, 500)]
    assert [r.id for r in sdk.v1.refunds.list({"payment_intent": payment_id}).data] == [made]
    with pytest.raises(RepairNotApplicable):
        fix(c, account_id, RepairAction.RECORD_REFUND, attempt_id=paid.attempt_id, refund_id=made)


@pytest.fixture
def stripe_down(stripe_container: Container) -> Container:  # noqa: F811
    """The same store, and a Stripe that does not answer (nothing listens on its port)."""
    client = stripe.StripeClient(
        "sk_test_down",
        base_addresses={"api": f"http://127.0.0.1:{free_port()}"},
        max_network_retries=0,
    )
    dead = StripeGateway(client, lookup="list", guard=Guard(retry=FAST))
    deps = dataclasses.replace(
        stripe_container.deps,
        gateway=RoutingGateway(stripe=dead),
        processors=ProcessorAccounts(stripe_customers=dead, cards=dead),
    )
    return dataclasses.replace(stripe_container, deps=deps, stripe=dead)


def test_an_outage_is_an_error_of_the_accounts_check_and_the_run_goes_on(
    stripe_container: Container,  # noqa: F811
    stripe_down: Container,
    sdk: stripe.StripeClient,
) -> None:
    first, _, _ = synced_account(stripe_container, sdk)
    second, _, _ = synced_account(stripe_container, sdk)
    unknown = uuid4()
    seen: list[UUID] = []
    summary = reconcile_many(stripe_down, [first, unknown, second], lambda a, _: seen.append(a))
    assert seen == [first, unknown, second]
    assert (summary.accounts, summary.in_step, summary.with_findings) == (2, 0, 0)
    assert summary.processor_errors == {"stripe": 2}
    assert list(summary.failed) == [unknown]
    assert summary.failed[unknown].startswith("account_not_found")
    with stripe_down.connection() as conn:
        view = get_reconciliation(conn, first)
    assert view is not None
    [error] = view.errors
    assert (error.processor, error.message.split(":")[0]) == ("stripe", "processor_unavailable")
    assert not view.in_step
    with pytest.raises(AccountNotFound):
        reconcile_account(stripe_container, unknown)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, localstripe: LocalStripeServer
) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_LOG_JSON", "true")
    monkeypatch.setenv("LEDGER_STRIPE_API_KEY", localstripe.api_key)
    monkeypatch.setenv("LEDGER_STRIPE_API_BASE", localstripe.url)
    monkeypatch.setenv("LEDGER_STRIPE_LOOKUP", "list")


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_the_cli_reconciles_shows_and_repairs_with_a_reason(
    stripe_container: Container,  # noqa: F811
    sdk: stripe.StripeClient,
    cli_env: None,
) -> None:
    c = stripe_container
    account_id, customer, _ = synced_account(c, sdk)
    other, _, _ = synced_account(c, sdk)
    sdk.v1.customers.update(customer, {"email": "ada@analytical.org"})

    out = run("reconcile", str(account_id), str(other))
    assert "accounts checked 2: in step 1, with findings 1, not checked 0" in out
    assert "customer_drifted: 1" in out
    shown = json.loads(run("reconcile", "show", str(account_id), "--json"))
    [finding] = shown["findings"]
    assert (finding["kind"], finding["processor_value"]) == (
        "customer_drifted",
        "email=ada@analytical.org",
    )
    assert re.search(rf"repair {account_id} push-customer --processor stripe", finding["repair"])
    assert "customer_drifted" in run("reconcile", "show", str(account_id))

    refused = run("reconcile", "repair", str(account_id), "push-customer", code=2)
    assert "Missing option '--reason'" in refused
    out = run(
        "reconcile", "repair", str(account_id), "push-customer", "--reason", "ticket 7",
        "--actor", "agent-3",
    )  # fmt: skip
    assert "in step" in out
    assert sdk.v1.customers.retrieve(customer).email == "ada@example.com"
    repaired = events_of(c, account_id)[-1]
    assert (repaired.meta.reason, repaired.meta.actor.id) == ("ticket 7", "agent-3")

    run("projections", "rebuild", "accounts")  # --all lists the open accounts read model
    out = run("reconcile", "--all")
    assert "accounts checked 2: in step 2" in out
    assert "never reconciled" in run("reconcile", "show", str(uuid4()), code=1)
    assert "name accounts, or pass --all" in run("reconcile", "run", code=2)
