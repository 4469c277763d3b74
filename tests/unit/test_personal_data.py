"""Personal fields are sealed with the account's key when stored, opened when read (the
domain never sees ciphertext), read as erased once the key is destroyed, and events stored
in clear before sealing existed still read, and can be sealed in place."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.exceptions import InvalidTag
from eventsourcing.persistence import StoredEvent

from adapters.field_cipher import AesGcmFields
from commands import accounts, forget, methods
from commands.application import LedgerApplication
from commands.base import Deps, load_account
from commands.models import AddPayPal, ForgetAccount, OpenAccount, UpdateProfile
from commands.personal import PersonalDataMapper
from ledger.account.identity import AccountForgotten
from ledger.envelope import envelope_of
from ledger.errors import NothingToChange, PersonalDataForgotten, SupportOnly
from ledger.meta import Actor, ActorKind, EventMeta, Surface
from ledger.payments import Processor
from ledger.personal import ERASED, ERASED_EMAIL
from tests.fakes.builders import customer_ctx, in_memory_deps, service_ctx, support_ctx
from tests.fakes.data_keys import InMemoryDataKeys
from tests.fakes.personal_data import InMemoryPersonalData
from tests.fixtures.store_fixture import load, public_shape, public_today, stored_of

FIXTURE = load()

NAME, EMAIL, TAX_ID, PAYER = "Grace Hopper", "grace@example.com", "GB123456789", "gh@pp.example"


def keys_of(deps: Deps) -> InMemoryDataKeys:
    cipher = deps.app.personal
    assert isinstance(cipher, AesGcmFields)
    assert isinstance(cipher.keys, InMemoryDataKeys)
    return cipher.keys


def opened(deps: Deps) -> UUID:
    cmd = OpenAccount(name=NAME, email=EMAIL, country="GB", currency="GBP", tax_id=TAX_ID)
    account_id = accounts.open_account(deps, cmd, service_ctx()).account_id
    paypal = AddPayPal(
        account_id=account_id, token="bt_1", billing_agreement_id="B-1", payer_email=PAYER
    )
    methods.add_paypal(deps, paypal, customer_ctx())
    return account_id


def stored_bytes(deps: Deps, account_id: UUID) -> bytes:
    return b"".join(s.state for s in deps.app.recorder.select_events(account_id))


def forgotten(deps: Deps, account_id: UUID) -> None:
    personal = InMemoryPersonalData(deps.app, keys_of(deps))
    forget.forget_account(deps, personal, ForgetAccount(account_id=account_id), support_ctx())


def test_personal_fields_are_stored_sealed_and_read_in_clear() -> None:
    deps = in_memory_deps()
    account_id = opened(deps)
    raw = stored_bytes(deps, account_id)
    for secret in (NAME, EMAIL, TAX_ID, PAYER):
        assert secret.encode() not in raw
    assert b'"sealed"' in raw
    assert b"GBP" in raw
    account = load_account(deps.app, account_id)
    assert (account.profile.name, account.profile.email, account.profile.tax_id) == (
        NAME,
        EMAIL,
        TAX_ID,
    )
    [method] = account.methods.values()
    assert method.payer_email == PAYER


def test_a_sealed_field_is_bound_to_its_account_and_field() -> None:
    keys = InMemoryDataKeys()
    cipher = AesGcmFields(keys)
    account_id = uuid4()
    sealed = cipher.seal(account_id, "name", NAME)
    assert sealed is not None
    assert cipher.open(account_id, "name", sealed) == NAME
    keys.keys[other := uuid4()] = keys.keys[account_id]  # even under the same key
    with pytest.raises(InvalidTag):
        cipher.open(other, "name", sealed)
    with pytest.raises(InvalidTag):
        cipher.open(account_id, "email", sealed)


def test_forgetting_erases_every_personal_field_and_keeps_the_money() -> None:
    deps = in_memory_deps()
    account_id = opened(deps)
    before = load_account(deps.app, account_id)
    forgotten(deps, account_id)
    assert keys_of(deps).keys[account_id] is None
    account = load_account(deps.app, account_id)
    assert (account.profile.name, account.profile.email, account.profile.tax_id) == (
        ERASED,
        ERASED_EMAIL,
        None,
    )
    assert account.opened_with.name == ERASED
    assert [m.payer_email for m in account.methods.values()] == [ERASED_EMAIL]
    assert (account.profile.country, account.profile.currency) == ("GB", "GBP")
    assert account.receivable == before.receivable
    assert account.invoices == before.invoices
    events = list(deps.app.events.get(account_id))
    assert isinstance(events[-1], AccountForgotten)
    first = envelope_of(events[0], 1)
    assert (first.data["name"], first.data["email"], first.data["tax_id"]) == (
        ERASED,
        ERASED_EMAIL,
        None,
    )


def test_a_forgotten_account_refuses_profile_changes_and_a_repeat_shreds_again() -> None:
    deps = in_memory_deps()
    account_id = opened(deps)
    forgotten(deps, account_id)
    with pytest.raises(PersonalDataForgotten):
        accounts.update_profile(
            deps, UpdateProfile(account_id=account_id, name="Someone"), service_ctx()
        )
    personal = InMemoryPersonalData(deps.app, keys_of(deps))
    with pytest.raises(NothingToChange):
        forget.forget_account(deps, personal, ForgetAccount(account_id=account_id), support_ctx())
    assert personal.shredded == [account_id]


def test_only_support_forgets_and_support_gives_a_reason() -> None:
    deps = in_memory_deps()
    account_id = opened(deps)
    personal = InMemoryPersonalData(deps.app, keys_of(deps))
    with pytest.raises(SupportOnly):
        forget.forget_account(deps, personal, ForgetAccount(account_id=account_id), service_ctx())
    assert keys_of(deps).keys[account_id] is not None
    assert personal.shredded == []


def test_events_stored_in_clear_still_read_and_can_be_sealed_in_place() -> None:
    plain_app = LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    deps = in_memory_deps()
    account_id = opened(deps)
    events = list(deps.app.events.get(account_id))
    clear = [plain_app.mapper.to_stored_event(e) for e in events]  # as today's main stores
    assert NAME.encode() in clear[0].state
    mapper = deps.app.mapper
    assert isinstance(mapper, PersonalDataMapper)
    assert mapper.to_domain_event(clear[0]).name == NAME
    resealed = [mapper.resealed(s) for s in clear]
    assert all(s is not None for s in resealed)
    for sealed in resealed:
        assert sealed is not None
        assert NAME.encode() not in sealed.state
        assert PAYER.encode() not in sealed.state
    assert mapper.resealed(_as_stored(resealed[0])) is None  # sealed already: nothing to do
    assert _state(mapper, resealed[1])["method"].payer_email == PAYER


def _as_stored(sealed: StoredEvent | None) -> StoredEvent:
    assert sealed is not None
    return sealed


def _state(mapper: PersonalDataMapper, sealed: StoredEvent | None) -> dict[str, Any]:
    state: dict[str, Any] = vars(mapper.to_domain_event(_as_stored(sealed)))
    return state


@pytest.mark.parametrize(
    "account", FIXTURE["accounts"], ids=lambda a: a["summary"]["profile"]["name"]
)
def test_a_store_written_before_sealing_reads_the_same_before_and_after_sealing_it(
    account: dict[str, Any],
) -> None:
    """tests/fixtures/store_main_4dbbec6.json: every event type, written by an earlier main
    with personal fields in clear. Read with sealing on, and resealed, it reads the same."""
    mapper = sealing_app().mapper
    assert isinstance(mapper, PersonalDataMapper)
    rows = [stored_of(row) for row in account["events"]]
    today = [public_today(p) for p in account["public"]]
    assert [public_shape(mapper.to_domain_event(s)) for s in rows] == today
    resealed = [mapper.resealed(s) or s for s in rows]
    assert not any(
        isinstance(value, str) and value in s.state.decode()
        for s in resealed
        for value in (account["summary"]["opened_with"]["name"],)
    )
    assert [public_shape(mapper.to_domain_event(s)) for s in resealed] == today


def sealing_app() -> LedgerApplication:
    return LedgerApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
        personal=AesGcmFields(InMemoryDataKeys()),
    )


def test_the_names_synced_to_a_processor_are_sealed_and_erased_with_the_rest() -> None:
    deps = in_memory_deps()
    account_id = opened(deps)
    account = load_account(deps.app, account_id)
    meta = account_meta(deps)
    account.link_provider_customer(Processor.STRIPE, "cus_1", meta)
    account.record_customer_sync(Processor.STRIPE, "cus_1", NAME, EMAIL, meta)
    deps.app.save(account)
    raw = stored_bytes(deps, account_id)
    assert NAME.encode() not in raw
    assert EMAIL.encode() not in raw
    assert load_account(deps.app, account_id).provider_synced["stripe"]["name"] == NAME
    forgotten(deps, account_id)
    synced = load_account(deps.app, account_id).provider_synced["stripe"]
    assert (synced["customer_id"], synced["name"], synced["email"]) == (
        "cus_1",
        ERASED,
        ERASED_EMAIL,
    )


def account_meta(deps: Deps) -> EventMeta:
    return EventMeta(Actor("svc", ActorKind.SERVICE), Surface.IAPI, uuid4(), deps.clock.now())
