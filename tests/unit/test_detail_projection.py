"""The account detail fold, pure: domain events as public envelopes, folded into what the
console shows of an account's methods, subscriptions and credits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.envelope import EventEnvelope, envelope_of
from ledger.methods import VaultPath
from projections.base import fold_all
from projections.detail import _NAMES, AccountDetail, AccountDetailProjection
from queries.account_detail import _credit, _method, _subscription
from tests.fixtures.store_fixture import load
from tests.unit.given import (
    PRO_YEARLY,
    at,
    card,
    credit,
    history,
    meta,
    paypal,
    replayed,
    subscribed,
    support,
    system,
)

ACCOUNTS = load()["accounts"]


def folded(*steps: Any) -> AccountDetail:
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(*steps))]
    [state] = fold_all(AccountDetailProjection(), envelopes).values()
    assert state is not None
    assert state.version == len(envelopes)
    return state


def test_a_card_and_a_paypal_agreement_keep_what_a_person_reads_of_them() -> None:
    state = folded(card(default=True, when=at()), paypal(when=at(days=1)))
    visa, pp = state.methods["card-1"], state.methods["pp-1"]
    assert (visa["kind"], visa["brand"], visa["last4"]) == ("card", "visa", "4242")
    assert (visa["exp_month"], visa["exp_year"], visa["state"]) == (12, 2030, "active")
    assert (visa["processor_ref"], visa["added_at"]) == ("pm_card-1", at().isoformat())
    assert (pp["kind"], pp["payer_email"], pp["billing_agreement_id"]) == (
        "paypal", "ada@example.com", "B-pp-1",
    )  # fmt: skip
    assert pp["vault_path"] == "billing_agreement"
    assert state.default_method_id == "card-1"


def test_method_states_and_the_default_follow_the_aggregate() -> None:
    cases = [
        [card(default=True), paypal(), lambda a: a.remove_method("card-1", meta())],
        [card(default=True), lambda a: a.expire_method("card-1", meta(at(days=3)))],
        [card(), paypal(default=True), lambda a: a.revoke_method("pp-1", meta())],
        [paypal(default=True), card(), lambda a: a.set_default_method("card-1", meta())],
        [
            paypal(default=True, vault_path=VaultPath.LEGACY),
            lambda a: a.migrate_token("pp-1", "bt_new", "B-9", meta()),
        ],
    ]
    for steps in cases:
        state = folded(*steps)
        account = replayed(history(*steps))
        assert state.default_method_id == account.default_method_id
        for method_id, method in account.methods.items():
            shown = state.methods[method_id]
            assert shown["state"] == method.state.value
            assert shown["vault_path"] == (method.vault_path.value if method.vault_path else None)
            assert shown["processor_ref"] == method.processor_ref
    expired = folded(*cases[1])
    assert expired.methods["card-1"]["state_changed_at"] == at(days=3).isoformat()
    migrated = folded(*cases[-1]).methods["pp-1"]
    assert (migrated["billing_agreement_id"], migrated["processor_ref"]) == ("B-9", "bt_new")


def test_a_subscription_keeps_its_plan_period_and_scheduled_cancellation() -> None:
    subscribe = subscribed(plan=PRO_YEARLY, when=at())
    state = folded(card(default=True), subscribe)
    sub = state.subscriptions["sub-1"]
    assert (sub["plan_id"], sub["status"], sub["cancel_at_period_end"]) == (
        "pro-yearly", "active", False,
    )  # fmt: skip
    assert (sub["period_start"], sub["period_end"]) == (
        at().isoformat(), at(days=365).isoformat(),
    )  # fmt: skip
    scheduled = folded(
        card(default=True), subscribe,
        lambda a: a.cancel_subscription("sub-1", True, meta(at(days=2))),
    )  # fmt: skip
    sub = scheduled.subscriptions["sub-1"]
    assert (sub["status"], sub["cancel_at_period_end"]) == ("active", True)
    assert sub["last_change"] == {"change": "cancel_scheduled", "at": at(days=2).isoformat()}
    canceled = folded(
        card(default=True), subscribe,
        lambda a: a.cancel_subscription("sub-1", False, meta(at(days=5))),
    ).subscriptions["sub-1"]  # fmt: skip
    assert (canceled["status"], canceled["canceled_at"]) == ("canceled", at(days=5).isoformat())
    assert canceled["subscribed_at"] == at().isoformat()


def test_a_credit_is_used_by_an_invoice_given_back_by_a_void_and_taken_back_when_revoked() -> None:
    granted = [credit("c-1", 1000, expires_at=at(days=90), when=at())]
    fresh = folded(*granted).credits["c-1"]
    assert (fresh["amount"], fresh["currency"], fresh["remaining"]) == (1000, "GBP", 1000)
    assert (fresh["status"], fresh["expires_at"]) == ("active", at(days=90).isoformat())
    assert fresh["granted_by"] == {"id": "support-1", "kind": "support"}
    assert fresh["reason"] == "customer asked by phone"
    used = [*granted, card(default=True), subscribed(when=at(days=1))]  # 30.00 invoice
    assert folded(*used).credits["c-1"]["remaining"] == 0
    voided = [*used, lambda a: a.void_invoice("inv-sub-1", meta(at(days=2)))]
    assert folded(*voided).credits["c-1"]["remaining"] == 1000
    revoked = folded(*voided, lambda a: a.revoke_credit("c-1", support(at(days=3))))
    c = revoked.credits["c-1"]
    assert (c["status"], c["remaining"], c["taken_back"]) == ("revoked", 0, 1000)
    assert c["closed_at"] == at(days=3).isoformat()
    account = replayed(history(*voided))
    assert account.credits["c-1"].remaining == folded(*voided).credits["c-1"]["remaining"]


def test_an_expired_credit_says_how_much_lapsed() -> None:
    state = folded(
        credit("c-1", 500, expires_at=at(days=10)),
        lambda a: a.expire_credits(system(at(days=10))),
    )
    c = state.credits["c-1"]
    assert (c["status"], c["taken_back"], c["closed_at"]) == (
        "expired", 500, at(days=10).isoformat(),
    )  # fmt: skip


def test_the_stored_row_loads_back_as_the_same_state() -> None:
    state = folded(
        card(default=True), paypal(vault_path=VaultPath.LEGACY), subscribed(), credit("c-1", 700)
    )
    row = dict(zip(_NAMES, state.as_params(), strict=True))
    stored = {k: json.loads(json.dumps(v.obj)) if hasattr(v, "obj") else v for k, v in row.items()}
    assert AccountDetail(**stored) == state


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a["summary"]["profile"]["name"])
def test_a_store_main_wrote_folds_to_the_methods_subscriptions_and_credits_it_read(
    account: dict[str, Any],
) -> None:
    """tests/fixtures/store_main_4dbbec6.json: every event type, as stored by older code;
    its summary is the aggregate main read from them."""
    envelopes = [EventEnvelope.from_dict(p) for p in account["public"]]
    [state] = fold_all(AccountDetailProjection(), envelopes).values()
    assert state is not None
    summary = account["summary"]
    assert state.default_method_id == summary["default_method_id"]
    added = {"added_at", "state_changed_at"}
    assert {k: _without(m, added) for k, m in state.methods.items()} == summary["methods"]
    shown = {"subscribed_at", "last_change"}
    subs = {k: _without(s, shown) for k, s in state.subscriptions.items()}
    assert subs == summary["subscriptions"]
    for credit_id, kept in state.credits.items():
        main = summary["credits"][credit_id]
        assert (kept["amount"], kept["status"]) == (main["granted"]["amount"], main["status"])
        assert kept["remaining"] + kept["taken_back"] == main["remaining"]
    assert set(state.credits) == set(summary["credits"])
    with_time = account_detail_items(state)
    assert len(with_time) == len(state.methods) + len(state.subscriptions) + len(state.credits)


def _without(item: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in keys}


def account_detail_items(state: AccountDetail) -> list[object]:
    """The query's reading of every item (what the console shows): none is refused."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    return [
        *(_method(m, k == state.default_method_id, now) for k, m in state.methods.items()),
        *(_subscription(s, now) for s in state.subscriptions.values()),
        *(_credit(c) for c in state.credits.values()),
    ]
