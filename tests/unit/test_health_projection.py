"""The account health fold, pure: domain events as public envelopes, folded into the facts
the health columns are made of."""

from __future__ import annotations

import json
from typing import Any

from ledger.envelope import envelope_of
from ledger.methods import VaultPath
from ledger.payments import AttemptPurpose, Processor
from projections.base import fold_all
from projections.health import _NAMES, HealthFacts, HealthProjection, _from_row
from tests.unit.given import (
    at,
    attempt,
    card,
    failed,
    history,
    meta,
    paypal,
    replayed,
    subscribed,
    succeeded,
    uncollectible,
)


def folded(*steps: Any) -> HealthFacts:
    envelopes = [envelope_of(e, i + 1) for i, e in enumerate(history(*steps))]
    [state] = fold_all(HealthProjection(), envelopes).values()
    assert state is not None
    assert state.version == len(envelopes)
    return state


def test_an_open_invoice_is_outstanding_and_paying_it_clears_it() -> None:
    state = folded(card(default=True), subscribed(when=at()))
    assert (state.outstanding, state.uncollectible) == (3000, 0)
    assert state.oldest_unpaid_finalized_at == state.dunning_anchor_at == at()
    assert state.oldest_unpaid_due_at is None  # the automatic path has no due date
    assert state.active_subscriptions == 1
    assert state.usable_default_method
    paid = folded(
        card(default=True), subscribed(), attempt("a-1", when=at(hours=1)),
        succeeded("a-1", when=at(hours=1)),
    )  # fmt: skip
    assert (paid.outstanding, paid.invoices, paid.attempts) == (0, {}, {})
    assert paid.last_successful_payment_at == at(hours=1)


def test_failed_collection_attempts_count_and_a_pending_one_is_in_flight() -> None:
    state = folded(
        card(default=True),
        subscribed(),
        attempt("a-1", when=at(hours=1)),
        failed("a-1", when=at(hours=1)),
        attempt("a-2", when=at(days=1)),
    )
    assert state.failed_attempts == 1
    assert state.last_failed_attempt_at == at(hours=1)
    assert state.attempt_in_flight_since == at(days=1)
    assert not state.bad_debt_payment_in_flight


def test_bad_debt_then_a_bad_debt_payment_in_flight_then_recovered() -> None:
    steps = [card(default=True), subscribed(), uncollectible(when=at(days=20))]
    bad = folded(*steps)
    assert (bad.outstanding, bad.uncollectible, bad.dunning_anchor_at) == (0, 3000, None)
    lifting = folded(*steps, attempt("a-9", purpose=AttemptPurpose.BAD_DEBT, when=at(days=30)))
    assert lifting.bad_debt_payment_in_flight
    recovered = folded(
        *steps,
        attempt("a-9", purpose=AttemptPurpose.BAD_DEBT, when=at(days=30)),
        succeeded("a-9", when=at(days=30)),
    )
    assert (recovered.uncollectible, recovered.bad_debt_payment_in_flight) == (0, False)


def test_the_collection_path_follows_the_methods_like_the_aggregate() -> None:
    cases = [
        [card(default=True)],
        [card(default=True), paypal(default=True)],
        [card(default=True), paypal(default=True), lambda a: a.revoke_method("pp-1", meta())],
        [paypal(default=True), card()],
        [paypal(default=True), card(), lambda a: a.set_default_method("card-1", meta())],
        [card(default=True), paypal(), lambda a: a.remove_method("card-1", meta())],
        [card(default=True), lambda a: a.expire_method("card-1", meta())],
        [card(), paypal(default=True, vault_path=VaultPath.LEGACY)],
        [
            paypal(default=True, vault_path=VaultPath.LEGACY),
            lambda a: a.migrate_token("pp-1", "bt_new", "B-1", meta()),
        ],
    ]
    for steps in cases:
        state = folded(*steps)
        account = replayed(history(*steps))
        assert state.collection_path == account.collection_path.value
        assert state.default_method_id == account.default_method_id
    paths = [folded(*steps).collection_path for steps in cases[-2:]]
    assert paths == ["charge_automatically", "send_invoice"]  # legacy, then migrated
    no_default = folded(card(default=True), lambda a: a.expire_method("card-1", meta()))
    assert not no_default.usable_default_method


def test_provider_links_and_closing() -> None:
    state = folded(
        lambda a: a.link_provider_customer(Processor.STRIPE, "cus_1", meta()),
        lambda a: a.link_provider_customer(Processor.STRIPE, "cus_2", meta()),
        lambda a: a.close(meta()),
    )
    assert state.provider_links == {"stripe": "cus_2"}
    assert state.closed


def test_the_stored_detail_loads_back_as_the_same_facts_for_the_domain_rules() -> None:
    state = folded(
        card(default=True),
        paypal(default=True, vault_path=VaultPath.LEGACY),
        subscribed(),
        attempt("a-1", when=at(hours=1)),
    )
    row = dict(zip(_NAMES, state.as_params(), strict=True))
    stored = {**row, "provider_links": {}, "detail": json.loads(json.dumps(row["detail"].obj))}
    assert stored["detail"]["methods"]["pp-1"] == {
        "kind": "paypal", "added_seq": 2, "usable": True, "legacy": True,
    }  # fmt: skip
    loaded = _from_row(stored)
    assert loaded == state
    assert loaded.collection_path == state.collection_path == "charge_automatically"
    for method in stored["detail"]["methods"].values():
        del method["legacy"]  # rows written before legacy vaulting was tracked
    assert _from_row(stored).collection_path == "send_invoice"
