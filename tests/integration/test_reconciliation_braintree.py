"""Reconciliation against the local Braintree gateway (official SDK): the PayPal customer's
drift, a PayPal account vaulted behind the ledger's back, and the default that decides
the collection path, each found and repaired."""

from __future__ import annotations

from uuid import UUID

from adapters.bootstrap import Container
from adapters.reconcile import reconcile_account
from commands import handlers, methods
from commands.customers import sync_customer
from commands.models import AddPayPal, RepairAction, SyncProviderCustomer
from commands.reconcile_compare import FindingKind
from ledger.payments import Processor
from tests.braintree_gateway import BILLING_AGREEMENT_NONCE
from tests.fakes.builders import customer_ctx, open_cmd
from tests.integration.test_paypal_collection import paypal_container  # noqa: F401 - fixture
from tests.integration.test_reconciliation import fix


def synced_paypal_account(c: Container) -> tuple[UUID, str, str]:
    """An account whose Braintree customer the ledger created, with a PayPal default."""
    assert c.paypal is not None
    deps = c.deps
    account_id = handlers.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    sync = SyncProviderCustomer(account_id=account_id, processor=Processor.BRAINTREE)
    customer = sync_customer(deps, sync, customer_ctx()).customer_id
    vaulted = c.paypal.vault_nonce(
        customer, BILLING_AGREEMENT_NONCE, method_ref=f"pp-{account_id}", make_default=True
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
    paypal_container: Container,  # noqa: F811
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
    paypal_container: Container,  # noqa: F811
) -> None:
    c = paypal_container
    assert c.paypal is not None
    account_id, customer, token = synced_paypal_account(c)
    stray = c.paypal.vault_nonce(
        customer, BILLING_AGREEMENT_NONCE, method_ref=f"stray-{account_id}", make_default=True
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
