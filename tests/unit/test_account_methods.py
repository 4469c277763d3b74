"""Payment methods and the collection path derived from them (the PayPal trap), plus the
billing identity around them: given events, when a command, then events or a refusal."""

import pytest

from ledger import events as ev
from ledger.account import Account
from ledger.errors import AccountClosed, NothingToChange
from ledger.methods import (
    CollectionPath,
    InvalidMethod,
    MethodAlreadyAdded,
    MethodKind,
    MethodNeeded,
    MethodNotFound,
    MethodNotUsable,
    MethodState,
    VaultPath,
)
from ledger.payments import AttemptInFlight, Processor
from tests.unit.given import (
    PRO,
    at,
    attempt,
    card,
    customer,
    given,
    meta,
    paypal,
    subscribed,
    system,
)


def add_card(account: Account, method_id: str = "card-2", default: bool = False) -> None:
    account.add_card(method_id, f"pm_{method_id}", "mastercard", "4444", 3, 2031, default, meta())


def add_paypal(
    account: Account,
    method_id: str = "pp-1",
    default: bool = True,
    vault_path: VaultPath = VaultPath.BILLING_AGREEMENT,
    agreement: str | None = "B-1",
) -> None:
    account.add_paypal(
        method_id, f"bt_{method_id}", agreement, "ada@example.com", vault_path, default, meta()
    )


def closed() -> Account:
    return given(lambda a: a.close(meta()))


# --- adding -------------------------------------------------------------------------------


def test_adding_a_card_records_its_details() -> None:
    account = given()
    add_card(account, "card-1")
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentMethodAdded)
    method = event.method
    assert (method.method_id, method.kind, method.processor_ref) == (
        "card-1",
        MethodKind.CARD,
        "pm_card-1",
    )
    assert (method.brand, method.last4, method.exp_month, method.exp_year) == (
        "mastercard",
        "4444",
        3,
        2031,
    )
    assert account.methods["card-1"].state is MethodState.ACTIVE


def test_the_first_method_becomes_the_default_even_unasked() -> None:
    account = given()
    add_card(account, "card-1", default=False)
    assert account.default_method_id == "card-1"


def test_a_further_method_does_not_take_the_default_unless_asked() -> None:
    account = given(card("card-1"))
    add_card(account, "card-2", default=False)
    assert account.default_method_id == "card-1"


def test_a_further_method_takes_the_default_when_asked() -> None:
    account = given(card("card-1"))
    add_card(account, "card-2", default=True)
    assert account.default_method_id == "card-2"


def test_methods_are_numbered_in_the_order_they_were_added() -> None:
    account = given(card("card-1"), paypal("pp-1"))
    add_card(account, "card-2")
    assert [m.added_seq for m in account.methods.values()] == [1, 2, 3]


@pytest.mark.parametrize(
    ("brand", "last4", "exp_month", "exp_year"),
    [
        ("visa", "42x2", 12, 2030),
        ("visa", "42424", 12, 2030),
        ("visa", "4242", 13, 2030),
        ("visa", "4242", 0, 2030),
        ("visa", "4242", 12, 1999),
        ("  ", "4242", 12, 2030),
    ],
)
def test_a_card_with_invalid_details_is_refused(
    brand: str, last4: str, exp_month: int, exp_year: int
) -> None:
    account = given()
    with pytest.raises(InvalidMethod):
        account.add_card("card-1", "pm_1", brand, last4, exp_month, exp_year, True, meta())
    assert account.collect_events() == []


def test_the_same_method_id_cannot_be_added_twice() -> None:
    account = given(card("card-1"))
    with pytest.raises(MethodAlreadyAdded):
        account.add_card("card-1", "pm_other", "visa", "4242", 12, 2030, False, meta())
    assert account.collect_events() == []


def test_the_same_processor_reference_cannot_be_added_twice_while_usable() -> None:
    account = given(card("card-1"))
    with pytest.raises(MethodAlreadyAdded):
        account.add_card("card-9", "pm_card-1", "visa", "4242", 12, 2030, False, meta())
    assert account.collect_events() == []


def test_the_processor_reference_of_a_removed_method_can_be_added_again() -> None:
    account = given(card("card-1"), lambda a: a.remove_method("card-1", meta()))
    account.add_card("card-9", "pm_card-1", "visa", "4242", 12, 2030, False, meta())
    assert account.methods["card-9"].usable


def test_a_closed_account_accepts_no_new_method() -> None:
    account = closed()
    with pytest.raises(AccountClosed):
        add_card(account)
    assert account.collect_events() == []


def test_paypal_vaulted_as_a_billing_agreement_records_the_agreement() -> None:
    account = given()
    add_paypal(account, "pp-1", agreement="B-42")
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentMethodAdded)
    method = event.method
    assert (method.kind, method.billing_agreement_id, method.vault_path) == (
        MethodKind.PAYPAL,
        "B-42",
        VaultPath.BILLING_AGREEMENT,
    )


def test_paypal_vaulted_as_a_billing_agreement_needs_the_agreement_id() -> None:
    account = given()
    with pytest.raises(InvalidMethod):
        add_paypal(account, agreement=None)
    assert account.collect_events() == []


def test_paypal_vaulted_through_the_legacy_path_needs_no_agreement_id() -> None:
    account = given()
    add_paypal(account, vault_path=VaultPath.LEGACY, agreement=None)
    assert account.methods["pp-1"].vault_path is VaultPath.LEGACY


# --- default ------------------------------------------------------------------------------


def test_setting_the_default_records_it() -> None:
    account = given(card("card-1"), card("card-2"))
    account.set_default_method("card-2", customer())
    [event] = account.collect_events()
    assert isinstance(event, ev.DefaultPaymentMethodSet)
    assert event.method_id == "card-2"
    assert account.default_method_id == "card-2"


def test_setting_the_default_that_is_already_default_is_refused() -> None:
    account = given(card("card-1"))
    with pytest.raises(NothingToChange):
        account.set_default_method("card-1", customer())
    assert account.collect_events() == []


def test_an_unknown_method_cannot_become_the_default() -> None:
    account = given(card("card-1"))
    with pytest.raises(MethodNotFound):
        account.set_default_method("card-9", customer())
    assert account.collect_events() == []


def test_an_expired_method_cannot_become_the_default() -> None:
    account = given(card("card-1"), card("card-2"), lambda a: a.expire_method("card-2", system()))
    with pytest.raises(MethodNotUsable):
        account.set_default_method("card-2", customer())
    assert account.collect_events() == []


# --- removing, expiring, revoking -----------------------------------------------------------


def test_removing_a_method_marks_it_removed() -> None:
    account = given(card("card-1"), card("card-2"))
    account.remove_method("card-2", customer())
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentMethodRemoved)
    assert account.methods["card-2"].state is MethodState.REMOVED
    assert account.default_method_id == "card-1"


def test_removing_the_default_promotes_the_most_recently_added_usable_method() -> None:
    account = given(card("card-1"), card("card-2"), card("card-3"), card("card-4", default=True))
    account.expire_method("card-3", system())
    account.remove_method("card-4", customer())
    assert account.default_method_id == "card-2"


def test_removing_the_only_method_leaves_no_default() -> None:
    account = given(card("card-1"))
    account.remove_method("card-1", customer())
    assert account.default_method_id is None


def test_a_removed_method_cannot_be_removed_again() -> None:
    account = given(card("card-1"), lambda a: a.remove_method("card-1", meta()))
    with pytest.raises(MethodNotUsable):
        account.remove_method("card-1", customer())
    assert account.collect_events() == []


def test_an_expired_method_can_still_be_removed() -> None:
    account = given(card("card-1"), lambda a: a.expire_method("card-1", system()))
    account.remove_method("card-1", customer())
    assert account.methods["card-1"].state is MethodState.REMOVED


def test_removing_an_unknown_method_is_refused() -> None:
    account = given(card("card-1"))
    with pytest.raises(MethodNotFound):
        account.remove_method("card-9", customer())
    assert account.collect_events() == []


def test_a_method_with_a_payment_in_flight_cannot_be_removed() -> None:
    account = given(card("card-1"), subscribed(), attempt("att-1", method_id="card-1"))
    with pytest.raises(AttemptInFlight):
        account.remove_method("card-1", customer())
    assert account.collect_events() == []


def test_the_only_usable_method_of_a_renewing_subscription_cannot_be_removed() -> None:
    account = given(card("card-1"), card("card-2"), subscribed())
    account.expire_method("card-2", system())
    account.collect_events()
    with pytest.raises(MethodNeeded):
        account.remove_method("card-1", customer())
    assert account.collect_events() == []
    account.remove_method("card-2", customer())  # an unusable one can go
    assert account.methods["card-1"].usable
    account.remove_method("card-1", system(), even_if_needed=True)  # gone at its processor
    assert account.methods["card-1"].state is MethodState.REMOVED


def test_the_last_method_can_go_once_another_is_added_or_nothing_renews() -> None:
    account = given(card("card-1"), subscribed())
    add_paypal(account, "pp-1", default=False)
    account.remove_method("card-1", customer())
    assert account.methods["card-1"].state is MethodState.REMOVED
    ending = given(
        card("card-1"), subscribed(), lambda a: a.cancel_subscription("sub-1", True, meta())
    )
    ending.remove_method("card-1", customer())
    assert ending.methods["card-1"].state is MethodState.REMOVED


def test_expiring_the_default_card_promotes_another_usable_method() -> None:
    account = given(card("card-1"), card("card-2", default=True))
    account.expire_method("card-2", system())
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentMethodExpired)
    assert account.methods["card-2"].state is MethodState.EXPIRED
    assert account.default_method_id == "card-1"


def test_an_expired_method_cannot_expire_again() -> None:
    account = given(card("card-1"), lambda a: a.expire_method("card-1", system()))
    with pytest.raises(MethodNotUsable):
        account.expire_method("card-1", system())
    assert account.collect_events() == []


def test_the_customer_revoking_a_paypal_agreement_makes_it_unusable() -> None:
    account = given(card("card-1"), paypal("pp-1", default=True))
    account.revoke_method("pp-1", system())
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentMethodRevoked)
    assert account.methods["pp-1"].state is MethodState.REVOKED
    assert account.default_method_id == "card-1"


def test_only_paypal_agreements_are_revoked() -> None:
    account = given(card("card-1"))
    with pytest.raises(InvalidMethod):
        account.revoke_method("card-1", system())
    assert account.collect_events() == []


# --- token migration ------------------------------------------------------------------------


def test_migrating_a_legacy_paypal_token_records_old_and_new_reference() -> None:
    account = given(paypal("pp-1", vault_path=VaultPath.LEGACY))
    account.migrate_token("pp-1", "bt_new", "B-77", system())
    [event] = account.collect_events()
    assert isinstance(event, ev.PaymentMethodTokenMigrated)
    assert (event.old_ref, event.new_ref, event.billing_agreement_id) == (
        "bt_pp-1",
        "bt_new",
        "B-77",
    )
    method = account.methods["pp-1"]
    assert (method.processor_ref, method.billing_agreement_id, method.vault_path) == (
        "bt_new",
        "B-77",
        VaultPath.BILLING_AGREEMENT,
    )


def test_a_paypal_method_already_on_a_billing_agreement_is_not_migrated() -> None:
    account = given(paypal("pp-1"))
    with pytest.raises(NothingToChange):
        account.migrate_token("pp-1", "bt_new", "B-77", system())
    assert account.collect_events() == []


def test_a_card_is_not_migrated() -> None:
    account = given(card("card-1"))
    with pytest.raises(NothingToChange):
        account.migrate_token("card-1", "bt_new", "B-77", system())
    assert account.collect_events() == []


def test_a_revoked_legacy_token_is_not_migrated() -> None:
    account = given(
        paypal("pp-1", vault_path=VaultPath.LEGACY), lambda a: a.revoke_method("pp-1", system())
    )
    with pytest.raises(MethodNotUsable):
        account.migrate_token("pp-1", "bt_new", "B-77", system())
    assert account.collect_events() == []


def test_a_legacy_paypal_default_is_on_the_wrong_path_until_its_token_is_migrated() -> None:
    account = given(card("card-1"), paypal("pp-1", default=True, vault_path=VaultPath.LEGACY))
    before = account.collection_path
    account.migrate_token("pp-1", "bt_new", "B-77", system())
    assert (before, account.collection_path) == (
        CollectionPath.STRIPE_AUTOMATIC,
        CollectionPath.PAYPAL_SEND_INVOICE,
    )


# --- the derived collection path (the PayPal trap) -------------------------------------------


def test_an_account_without_methods_is_charged_automatically() -> None:
    assert given().collection_path is CollectionPath.STRIPE_AUTOMATIC


def test_a_card_customer_is_charged_automatically() -> None:
    assert given(card("card-1")).collection_path is CollectionPath.STRIPE_AUTOMATIC


def test_adding_paypal_as_default_moves_a_card_customer_to_send_invoice() -> None:
    account = given(card("card-1"), subscribed("sub-1"), subscribed("sub-2"))
    add_paypal(account, "pp-1", default=True)
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE


def test_after_adding_paypal_every_subscription_renews_as_a_sent_invoice_due_in_7_days() -> None:
    account = given(card("card-1"), subscribed("sub-1"), subscribed("sub-2"))
    add_paypal(account, "pp-1", default=True)
    renewal = at(days=31)
    for sub_id in ("sub-1", "sub-2"):
        account.renew(sub_id, PRO, f"renewal-{sub_id}", system(renewal))
    due = {i: account.invoices[f"renewal-{i}"].due_at for i in ("sub-1", "sub-2")}
    assert due == {"sub-1": at(days=38), "sub-2": at(days=38)}


def test_adding_paypal_without_making_it_default_keeps_a_card_customer_automatic() -> None:
    account = given(card("card-1"))
    add_paypal(account, "pp-1", default=False)
    assert account.collection_path is CollectionPath.STRIPE_AUTOMATIC


def test_removing_paypal_moves_the_customer_back_to_automatic_collection() -> None:
    account = given(card("card-1"), paypal("pp-1", default=True))
    account.remove_method("pp-1", customer())
    assert account.collection_path is CollectionPath.STRIPE_AUTOMATIC


def test_making_the_card_default_again_moves_back_to_automatic_collection() -> None:
    account = given(card("card-1"), paypal("pp-1", default=True))
    account.set_default_method("card-1", customer())
    assert account.collection_path is CollectionPath.STRIPE_AUTOMATIC


def test_a_revoked_paypal_default_never_leaves_the_account_on_send_invoice() -> None:
    account = given(paypal("pp-1", default=True))
    account.revoke_method("pp-1", system())
    assert account.collection_path is CollectionPath.STRIPE_AUTOMATIC


def test_the_collection_path_is_derived_from_events_alone() -> None:
    account = given(card("card-1"), paypal("pp-1", default=True))
    assert account.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    assert "collection_path" not in vars(account)


# --- provider customers ---------------------------------------------------------------------


def test_linking_a_provider_customer_records_it() -> None:
    account = given()
    account.link_provider_customer(Processor.BRAINTREE, "bt_cus_1", system())
    [event] = account.collect_events()
    assert isinstance(event, ev.ProviderCustomerLinked)
    assert account.provider_customers == {"braintree": "bt_cus_1"}


def test_linking_the_same_provider_customer_again_is_refused() -> None:
    account = given(lambda a: a.link_provider_customer(Processor.STRIPE, "cus_1", system()))
    with pytest.raises(NothingToChange):
        account.link_provider_customer(Processor.STRIPE, "cus_1", system())
    assert account.collect_events() == []


def test_a_closed_account_links_no_provider_customer() -> None:
    account = closed()
    with pytest.raises(AccountClosed):
        account.link_provider_customer(Processor.STRIPE, "cus_1", system())
    assert account.collect_events() == []
