"""Every fold has a decision for every event type of the account stream: it applies the
type or deliberately ignores it. A new event type fails here until each projection in
projections/registry.py says which; an ignored type is folded as a type nobody knows."""

from __future__ import annotations

import dataclasses
import random
from typing import Any
from uuid import UUID

from ledger.account.registry import PUBLIC_EVENTS
from projections.base import Projection
from projections.registry import all_projections
from tests.model.account import RULES, AccountModel, RandomDraws
from tests.model.invariants import ReadModelFolds


def account_event_types() -> set[str]:
    """The public names of the events an account stream can hold: the registry's
    (ledger/account/registry.py), which every recorded event class must be in."""
    return {event.name for event in PUBLIC_EVENTS}


def undecided(projection: Projection[Any], types: set[str]) -> set[str]:
    return types - projection.applies - projection.ignores


def test_the_event_types_are_found() -> None:
    types = account_event_types()
    assert {"AccountOpened", "AccountProfileUpdated", "AccountClosed"} <= types
    assert {"PaymentFailed", "PaymentMethodRevoked", "CreditClosed"} <= types
    assert not {"AccountEvent", "MoneyMoved", "_MethodStateChanged", "AccountCreated"} & types
    assert len(types) >= 31  # as many as on the day this test was written


def test_every_event_type_has_a_decision_in_every_fold() -> None:
    types = account_event_types()
    projections = all_projections()
    assert set(projections) >= {"accounts", "invoices", "health", "account_detail"}
    for name, projection in projections.items():
        assert projection.applies.isdisjoint(projection.ignores), name
        assert undecided(projection, types) == set(), name
        assert projection.applies | projection.ignores == types, f"{name}: no such type"


def test_a_new_event_type_is_undecided_in_every_fold() -> None:
    types = account_event_types() | {"InvoiceDisputedByCarrierPigeon"}
    for projection in all_projections().values():
        assert undecided(projection, types) == {"InvoiceDisputedByCarrierPigeon"}


def test_an_ignored_event_is_folded_as_one_of_a_type_nobody_knows() -> None:
    rng = random.Random(7)
    ids = random.Random(8)
    seen: dict[str, int] = {}
    for _ in range(4):
        model = AccountModel(lambda: UUID(int=ids.getrandbits(128), version=4))
        for kind in [*rng.choices(RULES, k=60), "wind_down_and_close"]:
            getattr(model, kind)(RandomDraws(rng))
        folds = ReadModelFolds(model)
        folds.catch_up()
        for name, projection in all_projections().items():
            state = None
            for env in folds.envelopes:
                if env.event_type in projection.ignores:
                    unknown = dataclasses.replace(env, event_type="NotAnEventType")
                    assert projection.fold(state, env) == projection.fold(state, unknown)
                    seen[name] = seen.get(name, 0) + 1
                state = projection.fold(state, env)
    assert set(seen) == set(all_projections())
