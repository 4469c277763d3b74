"""Customer sync rules on the in-memory store with a fake processor directory: create once,
push the ledger's changes, never overwrite a customer edited at the processor unless a
forced repair with a reason, and a processor outage changes nothing."""

from __future__ import annotations

import dataclasses
from uuid import UUID, uuid4

import pytest

from commands import accounts
from commands.base import Deps, ProcessorAccounts, load_account
from commands.customers import drifted_fields, sync_configured, sync_customer
from commands.errors import ProcessorNotConfigured, ProviderCustomerDrifted
from commands.models import SyncProviderCustomer, UpdateProfile
from commands.ports import ProviderCustomer, ProviderCustomerNotFound
from ledger.errors import ReasonRequired
from ledger.payments import Processor
from tests.fakes.builders import open_cmd, service_ctx, support_ctx
from tests.fakes.customers import FakeCustomers


@pytest.fixture
def stripe() -> FakeCustomers:
    return FakeCustomers()


@pytest.fixture
def deps(deps: Deps, stripe: FakeCustomers) -> Deps:
    """The shared in-memory deps (tests/unit/conftest.py), with Stripe's customers faked."""
    return dataclasses.replace(deps, processors=ProcessorAccounts(stripe_customers=stripe))


def opened(deps: Deps) -> UUID:
    return accounts.open_account(deps, open_cmd("Ada Lovelace"), service_ctx()).account_id


def sync(deps: Deps, account_id: UUID, *, force: bool = False, reason: str | None = None) -> str:
    cmd = SyncProviderCustomer(account_id=account_id, force=force)
    ctx = support_ctx(reason) if force else service_ctx()
    return sync_customer(deps, cmd, ctx).action


def edit(deps: Deps, account_id: UUID, **changes: str) -> None:
    accounts.update_profile(deps, UpdateProfile(account_id=account_id, **changes), service_ctx())


def test_the_first_sync_creates_the_customer_and_records_link_and_values(
    deps: Deps, stripe: FakeCustomers
) -> None:
    account_id = opened(deps)
    assert sync(deps, account_id) == "created"
    account = load_account(deps.app, account_id)
    (customer_id,) = stripe.customers
    assert account.provider_customers == {"stripe": customer_id}
    assert account.provider_synced["stripe"]["name"] == "Ada Lovelace"
    assert stripe.customers[customer_id].account_id == str(account_id)


def test_syncing_again_writes_and_records_nothing(deps: Deps, stripe: FakeCustomers) -> None:
    account_id = opened(deps)
    sync(deps, account_id)
    version = load_account(deps.app, account_id).version
    assert sync(deps, account_id) == "in_sync"
    assert load_account(deps.app, account_id).version == version
    assert [op for op, _ in stripe.writes] == ["create"]


def test_a_ledger_edit_is_pushed_and_recorded(deps: Deps, stripe: FakeCustomers) -> None:
    account_id = opened(deps)
    sync(deps, account_id)
    edit(deps, account_id, email="ada@new.example")
    assert sync(deps, account_id) == "updated"
    (customer,) = stripe.customers.values()
    assert customer.email == "ada@new.example"
    assert load_account(deps.app, account_id).provider_synced["stripe"]["email"] == (
        "ada@new.example"
    )


def test_a_processor_edit_is_refused_then_overwritten_only_by_a_forced_repair(
    deps: Deps, stripe: FakeCustomers
) -> None:
    account_id = opened(deps)
    sync(deps, account_id)
    (customer_id,) = stripe.customers
    stripe.edit_at_processor(customer_id, name="Countess of Lovelace")
    edit(deps, account_id, email="ada@new.example")
    with pytest.raises(ProviderCustomerDrifted) as drifted:
        sync(deps, account_id)
    assert drifted.value.fields == ("name",)
    assert stripe.customers[customer_id].name == "Countess of Lovelace"
    with pytest.raises(ReasonRequired):
        sync(deps, account_id, force=True, reason=None)
    assert sync(deps, account_id, force=True, reason="confirmed with the customer") == "updated"
    assert stripe.customers[customer_id].name == "Ada Lovelace"


def test_a_customer_linked_by_hand_and_never_written_counts_as_drifted() -> None:
    remote = ProviderCustomer("cus_1", None, "Ada", "ada@example.com", None)
    assert drifted_fields(None, remote) == ("name", "email")
    last = {"customer_id": "cus_1", "name": "Ada", "email": "old@example.com"}
    assert drifted_fields(last, remote) == ("email",)
    assert drifted_fields({**last, "customer_id": "cus_2"}, remote) == ("name", "email")


def test_an_outage_records_nothing_and_sync_configured_reports_pending(
    deps: Deps, stripe: FakeCustomers
) -> None:
    account_id = opened(deps)
    version = load_account(deps.app, account_id).version
    stripe.down = True
    assert sync_configured(deps, account_id, service_ctx(uuid4())) == {"stripe": "pending"}
    assert load_account(deps.app, account_id).version == version
    stripe.down = False
    assert sync_configured(deps, account_id, service_ctx(uuid4())) == {"stripe": "created"}


def test_a_customer_deleted_at_the_processor_is_reported_not_recreated(
    deps: Deps, stripe: FakeCustomers
) -> None:
    account_id = opened(deps)
    sync(deps, account_id)
    stripe.customers.clear()
    with pytest.raises(ProviderCustomerNotFound):
        sync(deps, account_id)
    assert stripe.customers == {}


def test_an_unconfigured_processor_is_refused_and_not_synced_after_writes(deps: Deps) -> None:
    account_id = opened(deps)
    with pytest.raises(ProcessorNotConfigured):
        sync_customer(
            deps,
            SyncProviderCustomer(account_id=account_id, processor=Processor.BRAINTREE),
            service_ctx(),
        )
    assert sync_configured(deps, account_id, service_ctx()) == {"stripe": "created"}
