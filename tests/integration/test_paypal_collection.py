"""An on-session PayPal purchase through the commands, with the Braintree adapter that the
container wires from LEDGER_BRAINTREE_* settings, against the local Braintree gateway."""

from __future__ import annotations

from uuid import UUID

from adapters.bootstrap import Container
from adapters.processors import RoutingGateway
from commands import accounts, methods
from commands.base import load_account
from commands.models import AddPayPal, LinkProviderCustomer
from ledger.invoices import InvoiceStatus
from ledger.methods import CollectionPath
from ledger.payments import AttemptStatus, Processor
from tests.braintree_gateway import (
    BILLING_AGREEMENT_NONCE,
    LocalBraintreeGateway,
)
from tests.fakes.billing import subscribe
from tests.fakes.builders import customer_ctx, open_cmd
from tests.fakes.tokens import token_of


def paypal_account(container: Container) -> UUID:
    deps, vault = container.deps, container.paypal
    assert vault is not None
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    customer = vault.create_customer(str(account_id), "Ada Lovelace", "ada@example.com")
    link = LinkProviderCustomer(
        account_id=account_id, processor=Processor.BRAINTREE, customer_id=customer
    )
    methods.link_provider_customer(deps, link, customer_ctx())
    vaulted = vault.vault_nonce(
        customer, BILLING_AGREEMENT_NONCE, method_ref=f"pp-{token_of(account_id, 30)}"
    )
    assert vaulted.billing_agreement_id is not None
    add = AddPayPal(
        account_id=account_id,
        token=vaulted.method_ref,
        billing_agreement_id=vaulted.billing_agreement_id,
        payer_email=vaulted.payer_email or "payer@example.com",
    )
    methods.add_paypal(deps, add, customer_ctx())
    return account_id


def test_an_on_session_paypal_purchase_is_charged_through_braintree(
    paypal_container: Container, braintree_server: LocalBraintreeGateway
) -> None:
    assert isinstance(paypal_container.deps.gateway, RoutingGateway)
    account_id = paypal_account(paypal_container)
    assert (
        load_account(paypal_container.app, account_id).collection_path
        is CollectionPath.PAYPAL_SEND_INVOICE
    )
    result = subscribe(paypal_container.deps, account_id, on_session=True)
    assert result.payment is not None
    assert result.payment.status is AttemptStatus.SUCCEEDED
    account = load_account(paypal_container.app, account_id)
    attempt = account.attempts[result.payment.attempt_id]
    assert attempt.processor is Processor.BRAINTREE
    assert attempt.processor_payment_id is not None
    found = paypal_container.deps.gateway.find_charge(attempt.attempt_id, Processor.BRAINTREE)
    assert found is not None
    assert found.processor_payment_id == attempt.processor_payment_id
    assert account.invoices[str(result.invoice_id)].status is InvoiceStatus.PAID
