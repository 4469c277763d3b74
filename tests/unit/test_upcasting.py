"""Events stored before the tax id existed (v1 AccountOpened / ProfileUpdated, without
`tax_id` and without `class_version`) are read back through the application as v2 events
with no tax id."""

from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from commands.application import LedgerApplication
from ledger.account import Account
from ledger.payments import FailureKind
from ledger.profile import BillingProfile
from tests.unit.given import attempt, card, given, meta, subscribed

WITH_TAX_ID = BillingProfile("Ada Lovelace", "ada@example.com", "GB", "GBP", "GB123456789")


@pytest.fixture
def app() -> LedgerApplication:
    return LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def as_v1(app: LedgerApplication, event: Any) -> StoredEvent:
    """The event as the v1 code stored it: no tax id, no class version."""
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored.state)
    assert state["class_version"] == 3
    del state["tax_id"]
    del state["class_version"]
    return replace(stored, state=app.mapper.transcoder.encode(state))


def store_v1(app: LedgerApplication, *events: Any) -> None:
    app.recorder.insert_events([as_v1(app, e) for e in events])


def read(app: LedgerApplication, account_id: UUID) -> Account:
    account: object = app.repository.get(account_id)
    assert isinstance(account, Account)
    return account


def test_a_v1_account_opened_is_read_back_with_no_tax_id(app: LedgerApplication) -> None:
    opening = Account.open(uuid4(), WITH_TAX_ID, meta())
    [opened] = opening.collect_events()
    store_v1(app, opened)
    account = read(app, opening.id)
    assert account.profile == WITH_TAX_ID.with_changes(tax_id="")
    assert account.profile.tax_id is None
    assert account.opened_with.tax_id is None


def test_a_v1_profile_update_is_read_back_with_no_tax_id(app: LedgerApplication) -> None:
    opening = Account.open(uuid4(), WITH_TAX_ID, meta())
    opening.update_profile(WITH_TAX_ID.with_changes(name="Ada King"), meta())
    opened, updated = opening.collect_events()
    store_v1(app, opened, updated)
    account = read(app, opening.id)
    assert (account.profile.name, account.profile.tax_id) == ("Ada King", None)
    assert account.version == 2


def test_a_v1_account_can_be_changed_and_saved_as_v2(app: LedgerApplication) -> None:
    opening = Account.open(uuid4(), WITH_TAX_ID, meta())
    store_v1(app, *opening.collect_events())
    account = read(app, opening.id)
    account.update_profile(account.profile.with_changes(tax_id="GB987654321"), meta())
    app.save(account)
    assert read(app, opening.id).profile.tax_id == "GB987654321"


def test_a_v2_account_opened_keeps_its_tax_id(app: LedgerApplication) -> None:
    account = Account.open(uuid4(), WITH_TAX_ID, meta())
    app.save(account)
    assert read(app, account.id).profile.tax_id == "GB123456789"


def test_a_v1_payment_failure_gets_its_kind_from_the_decline_code(app: LedgerApplication) -> None:
    account = given(card(), subscribed(), attempt("att-1", "inv-sub-1"))
    account.record_failure("att-1", "expired_card", meta())
    [failure] = account.collect_events()
    stored = app.mapper.to_stored_event(failure)
    state = app.mapper.transcoder.decode(stored.state)
    assert (state["class_version"], state["failure"]) == (2, "hard")
    del state["failure"], state["class_version"]
    v1 = replace(stored, state=app.mapper.transcoder.encode(state))
    upcast = app.mapper.to_domain_event(v1)
    assert upcast.failure == FailureKind.HARD  # type: ignore[attr-defined]
