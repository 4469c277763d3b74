"""Reconciliation against the local Braintree gateway (official SDK): the PayPal customer's
drift, a PayPal account vaulted behind the ledger's back, the default that decides the
collection path, a refund made at Braintree and a dispute the ledger never heard of, each
found and repaired."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.braintree import BraintreeClient
from adapters.cli.main import app as cli
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.processors import braintree_client
from adapters.reconcile import reconcile_account, repair_and_recheck
from commands import accounts, methods, refunds
from commands.base import load_account
from commands.customers import sync_customer
from commands.models import (
    AddPayPal,
    RefundPayment,
    RepairAction,
    RepairReconciliation,
    SyncProviderCustomer,
)
from commands.reconcile_compare import FindingKind, Repair
from commands.reconcile_repairs import RepairNotApplicable
from ledger.meta import ActorKind
from ledger.payments import AttemptStatus, DisputeStatus, Processor
from tests.braintree_gateway import BILLING_AGREEMENT_NONCE, LocalBraintreeGateway
from tests.fakes.billing import subscribe
from tests.fakes.builders import customer_ctx, open_cmd, support_ctx
from tests.fakes.tokens import token_of
from tests.integration.test_http import KEYS, auth, entry
from tests.integration.test_reconciliation import events_of, fix


def synced_paypal_account(c: Container) -> tuple[UUID, str, str]:
    """An account whose Braintree customer the ledger created, with a PayPal default."""
    assert c.paypal is not None
    deps = c.deps
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    sync = SyncProviderCustomer(account_id=account_id, processor=Processor.BRAINTREE)
    customer = sync_customer(deps, sync, customer_ctx()).customer_id
    vaulted = c.paypal.vault_nonce(
        customer,
        BILLING_AGREEMENT_NONCE,
        method_ref=f"pp-{token_of(account_id, 30)}",
        make_default=True,
    )
    add = AddPayPal(
        account_id=account_id,
        token=vaulted.method_ref,
        billing_agreement_id=vaulted.billing_agreement_id,
        payer_email=vaulted.payer_email or "payer@example.com",
    )
    methods.add_paypal(deps, add, customer_ctx())
    return account_id, customer, vaulted.method_ref


def test_a_paypal_account_in_step_then_drifted_at_braintree_and_adopted(
    paypal_container: Container,
) -> None:
    c = paypal_container
    assert c.paypal is not None
    account_id, customer, _ = synced_paypal_account(c)
    assert reconcile_account(c, account_id).findings == ()

    c.paypal.update_customer(customer, name="Ada King")  # as in Braintree's control panel
    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.processor, found.subject) == (
        FindingKind.CUSTOMER_DRIFTED,
        Processor.BRAINTREE,
        customer,
    )
    assert (found.ledger_value, found.processor_value) == ("name=Ada Lovelace", "name=Ada King")
    detail, left = fix(c, account_id, RepairAction.ADOPT_CUSTOMER, processor=Processor.BRAINTREE)
    assert left == 0
    assert "name=Ada King" in detail


def test_a_paypal_account_vaulted_behind_the_ledgers_back_and_the_default(
    paypal_container: Container,
) -> None:
    c = paypal_container
    assert c.paypal is not None
    account_id, customer, token = synced_paypal_account(c)
    stray = c.paypal.vault_nonce(
        customer,
        BILLING_AGREEMENT_NONCE,
        method_ref=f"stray-{token_of(account_id, 24)}",
        make_default=True,
    )
    findings = {f.kind: f for f in reconcile_account(c, account_id).findings}
    assert set(findings) == {FindingKind.METHOD_UNKNOWN_TO_LEDGER, FindingKind.DEFAULT_MISMATCH}
    assert findings[FindingKind.METHOD_UNKNOWN_TO_LEDGER].subject == stray.method_ref
    mismatch = findings[FindingKind.DEFAULT_MISMATCH]
    assert (mismatch.ledger_value, mismatch.processor_value) == (token, stray.method_ref)
    assert mismatch.detail == "collection path send_invoice"

    fix(c, account_id, RepairAction.PUSH_DEFAULT, processor=Processor.BRAINTREE)
    found = c.paypal.find_customer(customer)
    assert found is not None
    assert found.default_method_ref == token
    _, left = fix(
        c,
        account_id,
        RepairAction.DETACH_METHOD,
        processor=Processor.BRAINTREE,
        method_ref=stray.method_ref,
    )
    assert left == 0
    assert c.paypal.find_method(stray.method_ref) is None


# --- PayPal payments: refunds and disputes at Braintree ------------------------------------


def paid_paypal(c: Container) -> tuple[UUID, str, str]:
    """A synced PayPal account with a captured sale: (account, attempt id, sale id)."""
    account_id, _, _ = synced_paypal_account(c)
    payment = subscribe(c.deps, account_id, on_session=True).payment
    assert payment is not None
    assert payment.status is AttemptStatus.SUCCEEDED
    attempt = load_account(c.app, account_id).attempts[payment.attempt_id]
    assert attempt.processor_payment_id is not None
    return account_id, attempt.attempt_id, attempt.processor_payment_id


def control_panel(c: Container) -> BraintreeClient:
    """The merchant's own SDK client: what is done with it, the ledger never saw."""
    client = braintree_client(c.settings)
    assert client is not None
    return client


def test_a_refund_made_at_braintree_is_found_and_recorded_and_the_ledgers_own_match(
    paypal_container: Container,
    braintree_server: LocalBraintreeGateway,
) -> None:
    c = paypal_container
    account_id, attempt_id, sale_id = paid_paypal(c)
    braintree_server.settle(sale_id)
    refund = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=300)
    refunds.refund_payment(c.deps, refund, support_ctx("goodwill", uuid4()))
    assert reconcile_account(c, account_id).findings == ()  # matched by its order id

    theirs = control_panel(c).sdk.transaction.refund(sale_id, "2.00").transaction.id
    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.processor, found.subject, found.processor_value) == (
        FindingKind.REFUND_UNKNOWN_TO_LEDGER,
        Processor.BRAINTREE,
        theirs,
        "200 USD",
    )
    assert found.repairs == (
        Repair(RepairAction.RECORD_REFUND, attempt_id=attempt_id, refund_id=theirs),
    )
    detail, left = fix(
        c, account_id, RepairAction.RECORD_REFUND, attempt_id=attempt_id, refund_id=theirs
    )
    assert (detail, left) == ("recorded 200 USD", 0)
    assert load_account(c.app, account_id).attempts[attempt_id].refunded == 500


def test_the_ledgers_full_refund_of_an_unsettled_sale_is_its_void_and_in_step(
    paypal_container: Container,
) -> None:
    c = paypal_container
    account_id, attempt_id, sale_id = paid_paypal(c)
    whole = load_account(c.app, account_id).attempts[attempt_id].amount.amount
    refund = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=whole)
    refunds.refund_payment(c.deps, refund, support_ctx("cancelled at once", uuid4()))
    assert control_panel(c).sdk.transaction.find(sale_id).status == "voided"
    assert reconcile_account(c, account_id).findings == ()


def test_a_dispute_at_braintree_unknown_to_the_ledger_is_recorded_once_then_its_close(
    paypal_container: Container,
    braintree_server: LocalBraintreeGateway,
) -> None:
    c = paypal_container
    account_id, attempt_id, sale_id = paid_paypal(c)
    braintree_server.settle(sale_id)
    dispute_id = braintree_server.open_dispute(sale_id, Decimal("10.00"))

    [found] = reconcile_account(c, account_id).findings
    assert (found.kind, found.subject, found.ledger_value, found.processor_value) == (
        FindingKind.DISPUTE_UNKNOWN_TO_LEDGER,
        dispute_id,
        None,
        "open 1000 USD",
    )
    assert found.repairs == (
        Repair(RepairAction.RECORD_DISPUTE, attempt_id=attempt_id, dispute_id=dispute_id),
    )
    cmd = RepairReconciliation(
        account_id=account_id,
        action=RepairAction.RECORD_DISPUTE,
        attempt_id=attempt_id,
        dispute_id=dispute_id,
    )
    ctx = support_ctx("chargeback notification lost", uuid4())
    outcome, after = repair_and_recheck(c, cmd, ctx)
    assert (outcome.detail, after.findings) == ("recorded the dispute open, 1000 USD", ())
    assert repair_and_recheck(c, cmd, ctx)[0].result.replayed  # the same command: once
    with pytest.raises(RepairNotApplicable):  # another command: nothing left to record
        repair_and_recheck(c, cmd, support_ctx("again", uuid4()))
    opened = [e for e in events_of(c, account_id) if type(e).__name__ == "DisputeOpened"]
    assert [(e.dispute_id, e.amount) for e in opened] == [(dispute_id, 1000)]

    braintree_server.close_dispute(dispute_id, won=True)
    [behind] = reconcile_account(c, account_id).findings
    assert (behind.kind, behind.ledger_value, behind.processor_value) == (
        FindingKind.DISPUTE_STATE_MISMATCH,
        "open 1000 USD",
        "won 1000 USD",
    )
    detail, left = fix(
        c, account_id, RepairAction.RECORD_DISPUTE, attempt_id=attempt_id, dispute_id=dispute_id
    )
    assert (detail, left) == ("recorded the dispute won, 1000 USD", 0)
    assert load_account(c.app, account_id).attempts[attempt_id].dispute is DisputeStatus.WON


def test_support_records_a_decided_dispute_over_http_with_its_dispute_id(
    paypal_container: Container,
    braintree_server: LocalBraintreeGateway,
) -> None:
    c = paypal_container
    account_id, attempt_id, sale_id = paid_paypal(c)
    braintree_server.settle(sale_id)
    dispute_id = braintree_server.open_dispute(sale_id, Decimal("10.00"))
    braintree_server.close_dispute(dispute_id, won=False)
    keys = ApiKeys([entry(KEYS["support"], ActorKind.SUPPORT)])
    with TestClient(create_app(c, keys)) as client:
        path = f"/support/accounts/{account_id}/reconciliation"
        checked = client.post(path, headers=auth("support"))
        assert [f["kind"] for f in checked.json()["findings"]] == ["dispute_unknown_to_ledger"]
        body = {
            "action": "record-dispute",
            "attempt_id": attempt_id,
            "dispute_id": dispute_id,
            "reason": "chargeback lost, notification never arrived",
        }
        repaired = client.post(f"{path}/repairs", json=body, headers=auth("support"))
    assert repaired.status_code == 200, repaired.text
    assert repaired.json()["detail"] == "recorded the dispute lost, 1000 USD"
    assert repaired.json()["reconciliation"]["in_step"] is True
    assert load_account(c.app, account_id).attempts[attempt_id].dispute is DisputeStatus.LOST


def test_the_cli_repair_takes_the_dispute_id(
    paypal_container: Container,
    braintree_server: LocalBraintreeGateway,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    c = paypal_container
    account_id, attempt_id, sale_id = paid_paypal(c)
    braintree_server.settle(sale_id)
    dispute_id = braintree_server.open_dispute(sale_id, Decimal("10.00"))
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    for name, value in braintree_server.ledger_settings().items():
        plain = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        monkeypatch.setenv(f"LEDGER_{name.upper()}", plain)
    words = ["reconcile", "repair", str(account_id), "record-dispute", "--attempt", attempt_id]
    words += ["--dispute", dispute_id, "--reason", "chargeback seen in the control panel"]
    result = CliRunner().invoke(cli, words)
    assert result.exit_code == 0, result.output
    assert "recorded the dispute open, 1000 USD" in result.output
    assert "in step" in result.output
    attempt = load_account(c.app, account_id).attempts[attempt_id]
    assert (attempt.dispute, attempt.disputed_amount) == (DisputeStatus.NEEDS_RESPONSE, 1000)
