"""Reconciliation's comparison, pure: an account from events and what the processors
answered, in; findings with their kind, both sides' values and the repair, out."""

from __future__ import annotations

from datetime import timedelta

from commands.janitor import NOT_RECEIVED
from commands.models import RepairAction
from commands.ports import ChargeResult, ProcessorPayment, ProcessorRefund, ProviderCustomer
from commands.reconcile_compare import (
    SETTLE_AFTER,
    CustomerView,
    Finding,
    FindingKind,
    ProcessorView,
    Repair,
    compare,
)
from ledger.account import Account
from ledger.payments import ActionPolicy, Processor
from tests.unit.given import (
    PROFILE,
    Step,
    at,
    attempt,
    card,
    failed,
    gbp,
    given,
    meta,
    paid,
    paypal,
    subscribed,
)

STRIPE_ONLY = frozenset({Processor.STRIPE})
BOTH = frozenset({Processor.STRIPE, Processor.BRAINTREE})
LATER = at(hours=1)  # past SETTLE_AFTER for attempts started at T0
WAIT_A_DAY = ActionPolicy(off_session=timedelta(days=1))


def linked(processor: Processor = Processor.STRIPE, customer_id: str = "cus_1") -> Step:
    return lambda a: a.link_provider_customer(processor, customer_id, meta())


def synced(
    name: str = PROFILE.name,
    email: str = PROFILE.email,
    processor: Processor = Processor.STRIPE,
    customer_id: str = "cus_1",
) -> Step:
    return lambda a: a.record_customer_sync(processor, customer_id, name, email, meta())


def remote(
    account: Account,
    name: str = PROFILE.name,
    email: str = PROFILE.email,
    default: str | None = "pm_card-1",
    customer_id: str = "cus_1",
    account_id: str | None = None,
) -> ProviderCustomer:
    owner = account_id if account_id is not None else str(account.id)
    return ProviderCustomer(customer_id, owner, name, email, default)


def view(
    customer: ProviderCustomer | None,
    refs: tuple[str, ...] = ("pm_card-1",),
    charges: dict[str, ChargeResult | None] | None = None,
) -> ProcessorView:
    customers = {Processor.STRIPE: CustomerView("cus_1", customer, refs)}
    return ProcessorView(STRIPE_ONLY, customers, charges or {})


def in_step_account() -> Account:
    return given(linked(), synced(), card("card-1", default=True))


def kinds(findings: list[Finding]) -> list[FindingKind]:
    return [f.kind for f in findings]


def test_an_account_in_step_with_stripe_has_no_findings() -> None:
    account = in_step_account()
    assert compare(account, view(remote(account)), LATER) == []


def test_a_customer_edited_at_the_processor_is_drifted_with_both_repairs() -> None:
    account = in_step_account()
    [found] = compare(account, view(remote(account, email="ada@elsewhere.org")), LATER)
    assert found.kind is FindingKind.CUSTOMER_DRIFTED
    assert (found.processor, found.subject) == (Processor.STRIPE, "cus_1")
    assert (found.ledger_value, found.processor_value) == (
        "email=ada@example.com",
        "email=ada@elsewhere.org",
    )
    assert found.repairs == (
        Repair(RepairAction.ADOPT_CUSTOMER, processor=Processor.STRIPE),
        Repair(RepairAction.PUSH_CUSTOMER, processor=Processor.STRIPE),
    )


def test_a_profile_changed_in_the_ledger_but_not_pushed_is_not_synced_not_drifted() -> None:
    account = given(
        linked(),
        synced(),
        card("card-1", default=True),
        lambda a: a.update_profile(PROFILE.with_changes(name="Ada King"), meta()),
    )
    [found] = compare(account, view(remote(account)), LATER)
    assert found.kind is FindingKind.CUSTOMER_NOT_SYNCED
    assert (found.ledger_value, found.processor_value) == ("name=Ada King", "name=Ada Lovelace")
    assert found.repairs == (Repair(RepairAction.PUSH_CUSTOMER, processor=Processor.STRIPE),)


def test_a_customer_the_ledger_never_wrote_that_differs_is_drifted_on_every_field() -> None:
    account = given(linked(), card("card-1", default=True))
    [found] = compare(account, view(remote(account, name="A. L.")), LATER)
    assert found.kind is FindingKind.CUSTOMER_DRIFTED
    assert found.ledger_value == "name=Ada Lovelace, email=ada@example.com"
    assert "never wrote" in found.detail


def test_a_customer_equal_to_the_profile_is_in_step_even_if_never_synced() -> None:
    account = given(linked(), card("card-1", default=True))
    assert compare(account, view(remote(account)), LATER) == []


def test_no_stripe_customer_is_not_linked_and_a_deleted_one_is_missing() -> None:
    unlinked = given(card("card-1", default=True))
    [found] = compare(unlinked, ProcessorView(STRIPE_ONLY), LATER)
    assert found.kind is FindingKind.CUSTOMER_NOT_LINKED
    assert found.repairs == (Repair(RepairAction.PUSH_CUSTOMER, processor=Processor.STRIPE),)
    account = in_step_account()
    [missing] = compare(account, view(None), LATER)
    assert (missing.kind, missing.ledger_value, missing.repairs) == (
        FindingKind.CUSTOMER_MISSING,
        "cus_1",
        (),
    )


def test_a_customer_whose_metadata_names_another_account_is_reported() -> None:
    account = in_step_account()
    [found] = compare(account, view(remote(account, account_id="someone-else")), LATER)
    assert found.kind is FindingKind.CUSTOMER_WRONG_ACCOUNT
    assert (found.ledger_value, found.processor_value) == (str(account.id), "someone-else")


def test_methods_are_compared_both_ways_and_the_default_at_the_collecting_processor() -> None:
    account = given(linked(), synced(), card("card-1", default=True), card("card-2"))
    at_stripe = remote(account, default="pm_stray")
    findings = compare(account, view(at_stripe, refs=("pm_card-1", "pm_stray")), LATER)
    by_kind = {f.kind: f for f in findings}
    assert set(by_kind) == {
        FindingKind.METHOD_MISSING_AT_PROCESSOR,
        FindingKind.METHOD_UNKNOWN_TO_LEDGER,
        FindingKind.DEFAULT_MISMATCH,
    }
    missing = by_kind[FindingKind.METHOD_MISSING_AT_PROCESSOR]
    assert (missing.subject, missing.ledger_value) == ("card-2", "pm_card-2")
    assert missing.repairs == (Repair(RepairAction.REMOVE_METHOD, method_id="card-2"),)
    stray = by_kind[FindingKind.METHOD_UNKNOWN_TO_LEDGER]
    assert (stray.subject, stray.ledger_value) == ("pm_stray", None)
    assert stray.repairs == (
        Repair(RepairAction.DETACH_METHOD, processor=Processor.STRIPE, method_ref="pm_stray"),
    )
    default = by_kind[FindingKind.DEFAULT_MISMATCH]
    assert (default.ledger_value, default.processor_value) == ("pm_card-1", "pm_stray")
    assert default.detail == "collection path charge_automatically"


def test_a_card_removed_in_the_ledger_but_still_attached_shows_its_state() -> None:
    account = given(
        linked(), synced(), card("card-1", default=True), card("card-2"),
        lambda a: a.remove_method("card-2", meta()),
    )  # fmt: skip
    findings = compare(account, view(remote(account), refs=("pm_card-1", "pm_card-2")), LATER)
    [found] = findings
    assert (found.kind, found.subject, found.ledger_value) == (
        FindingKind.METHOD_UNKNOWN_TO_LEDGER,
        "pm_card-2",
        "removed",
    )


def test_a_paypal_default_is_checked_at_braintree_not_at_stripe() -> None:
    account = given(
        linked(),
        synced(),
        linked(Processor.BRAINTREE, "acct-bt"),
        synced(processor=Processor.BRAINTREE, customer_id="acct-bt"),
        card("card-1"),
        paypal("pp-1", default=True),
    )
    at_stripe = remote(account, default=None)
    at_braintree = ProviderCustomer("acct-bt", str(account.id), PROFILE.name, PROFILE.email, None)
    processors = ProcessorView(
        BOTH,
        {
            Processor.STRIPE: CustomerView("cus_1", at_stripe, ("pm_card-1",)),
            Processor.BRAINTREE: CustomerView("acct-bt", at_braintree, ("bt_pp-1",)),
        },
    )
    [found] = compare(account, processors, LATER)
    assert (found.kind, found.processor, found.processor_value) == (
        FindingKind.DEFAULT_MISMATCH,
        Processor.BRAINTREE,
        None,
    )
    assert found.detail == "collection path send_invoice"


def test_a_processor_that_did_not_answer_is_skipped_not_guessed() -> None:
    account = given(linked(), synced(), card("card-1", default=True))
    down = ProcessorView(STRIPE_ONLY, unavailable=frozenset({Processor.STRIPE}))
    assert compare(account, down, LATER) == []


def test_a_pending_attempt_past_the_settle_wait_is_unresolved_with_the_processor_answer() -> None:
    account = given(linked(), synced(), card("card-1", default=True), subscribed(), attempt("a-1"))
    succeeded = ChargeResult(succeeded=True, processor_payment_id="pi_1")
    [found] = compare(account, view(remote(account), charges={"a-1": succeeded}), LATER)
    assert (found.kind, found.subject, found.ledger_value, found.processor_value) == (
        FindingKind.ATTEMPT_UNRESOLVED,
        "a-1",
        "pending",
        "succeeded",
    )
    assert found.repairs == (Repair(RepairAction.RESOLVE_ATTEMPT, attempt_id="a-1"),)
    too_soon = at(seconds=SETTLE_AFTER.total_seconds() - 1)
    assert compare(account, view(remote(account), charges={"a-1": succeeded}), too_soon) == []


def test_an_attempt_waiting_for_the_customer_is_left_alone_until_its_wait_expires() -> None:
    account = given(
        linked(), synced(), card("card-1", default=True), subscribed(), attempt("a-1"),
        lambda a: a.record_action_required("a-1", "pi_1", WAIT_A_DAY, meta()),
    )  # fmt: skip
    waiting = ChargeResult(succeeded=False, processor_payment_id="pi_1", requires_action=True)
    answers = view(remote(account), charges={"a-1": waiting})
    assert compare(account, answers, at(hours=2)) == []
    [expired] = compare(account, answers, at(days=2))
    assert (expired.kind, expired.processor_value, expired.repairs) == (
        FindingKind.ATTEMPT_UNRESOLVED,
        "requires_action",
        (),
    )


def test_settled_payments_disagreeing_with_the_processor() -> None:
    account = given(
        linked(),
        synced(),
        card("card-1", default=True),
        subscribed("sub-1"),
        paid("a-ok"),
        subscribed("sub-2"),
        attempt("a-lost", invoice_id="inv-sub-2"),
        failed("a-lost", NOT_RECEIVED),
        subscribed("sub-3"),
        paid("a-gone", invoice_id="inv-sub-3"),
        subscribed("sub-4"),
        paid("a-other", invoice_id="inv-sub-4"),
    )
    charges: dict[str, ChargeResult | None] = {
        "a-ok": ChargeResult(succeeded=True, processor_payment_id="pay_a-ok"),
        "a-lost": ChargeResult(succeeded=True, processor_payment_id="pi_late"),
        "a-gone": None,
        "a-other": ChargeResult(succeeded=True, processor_payment_id="pi_twin"),
    }
    found = {f.subject: f for f in compare(account, view(remote(account), charges=charges), LATER)}
    assert set(found) == {"a-lost", "a-gone", "a-other"}
    assert (found["a-lost"].kind, found["a-lost"].ledger_value) == (
        FindingKind.PAYMENT_OUTCOME_MISMATCH,
        f"failed: {NOT_RECEIVED}",
    )
    assert found["a-gone"].kind is FindingKind.PAYMENT_MISSING_AT_PROCESSOR
    assert (found["a-other"].kind, found["a-other"].processor_value) == (
        FindingKind.PAYMENT_ID_MISMATCH,
        "pi_twin",
    )
    assert all(f.repairs == () for f in found.values())


def test_a_succeeded_payment_the_processor_holds_as_failed_is_an_outcome_mismatch() -> None:
    account = given(linked(), synced(), card("card-1", default=True), subscribed(), paid("a-1"))
    declined = ChargeResult(succeeded=False, decline_code="card_declined")
    [found] = compare(account, view(remote(account), charges={"a-1": declined}), LATER)
    assert (found.kind, found.ledger_value, found.processor_value) == (
        FindingKind.PAYMENT_OUTCOME_MISMATCH,
        "succeeded",
        "failed: card_declined",
    )


def refunded(attempt_id: str, refund_id: str, amount: int) -> Step:
    return lambda a: a.refund(attempt_id, refund_id, gbp(amount), meta())


def payment_of(*refunds: ProcessorRefund) -> ProcessorPayment:
    return ProcessorPayment("pay_a-1", 3000, "GBP", refunds)


def with_payment(account: Account, payment: ProcessorPayment) -> ProcessorView:
    ok = ChargeResult(succeeded=True, processor_payment_id="pay_a-1")
    customers = {Processor.STRIPE: CustomerView("cus_1", remote(account), ("pm_card-1",))}
    return ProcessorView(STRIPE_ONLY, customers, {"a-1": ok}, {"a-1": payment})


def test_refunds_match_by_the_processors_id_or_the_ledgers_id_sent_along() -> None:
    account = given(
        linked(), synced(), card("card-1", default=True), subscribed(), paid("a-1"),
        refunded("a-1", "ours-1", 500), refunded("a-1", "re_dashboard", 700),
    )  # fmt: skip
    at_stripe = payment_of(
        ProcessorRefund("re_1", "ours-1", 500), ProcessorRefund("re_dashboard", None, 700)
    )
    assert compare(account, with_payment(account, at_stripe), LATER) == []


def test_refunds_on_one_side_only_and_different_totals() -> None:
    account = given(
        linked(), synced(), card("card-1", default=True), subscribed(), paid("a-1"),
        refunded("a-1", "ours-1", 500),
    )  # fmt: skip
    only_there = payment_of(
        ProcessorRefund("re_1", "ours-1", 500), ProcessorRefund("re_x", None, 200)
    )
    [unknown] = compare(account, with_payment(account, only_there), LATER)
    assert (unknown.kind, unknown.subject, unknown.processor_value) == (
        FindingKind.REFUND_UNKNOWN_TO_LEDGER,
        "re_x",
        "200 GBP",
    )
    assert unknown.repairs == (
        Repair(RepairAction.RECORD_REFUND, attempt_id="a-1", refund_id="re_x"),
    )
    [missing] = compare(account, with_payment(account, payment_of()), LATER)
    assert (missing.kind, missing.subject, missing.repairs) == (
        FindingKind.REFUND_MISSING_AT_PROCESSOR,
        "ours-1",
        (),
    )
    other_amount = payment_of(ProcessorRefund("re_1", "ours-1", 400))
    [total] = compare(account, with_payment(account, other_amount), LATER)
    assert (total.kind, total.ledger_value, total.processor_value) == (
        FindingKind.REFUND_AMOUNT_MISMATCH,
        "500",
        "400",
    )
