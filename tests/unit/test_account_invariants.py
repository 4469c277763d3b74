"""Random command sequences with random processor outcomes keep the account's invariants:
balanced journal, receivable equal to what open and uncollectible invoices owe, no invoice
paid twice, bad debt iff something is uncollectible, replay (with or without a snapshot)
equal to the live state, and read models equal to a rebuild. The rules and invariants live
in tests/model, shared with the long seeded run (`python -m bench.soak`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.model import invariants
from tests.model.account import AccountModel
from tests.model.invariants import ReadModelFolds

T = TypeVar("T")


class HypothesisDraws:
    """The model's choices drawn by hypothesis, so a failure shrinks."""

    def __init__(self, data: st.DataObject) -> None:
        self._data = data

    def boolean(self) -> bool:
        return self._data.draw(st.booleans())

    def integer(self, low: int, high: int) -> int:
        return self._data.draw(st.integers(low, high))

    def pick(self, items: Sequence[T]) -> T:
        return self._data.draw(st.sampled_from(items))


class AccountMachine(RuleBasedStateMachine):
    @initialize()
    def open_account(self) -> None:
        self.model = AccountModel()
        self.folds = ReadModelFolds(self.model)

    @rule(data=st.data())
    def add_method(self, data: st.DataObject) -> None:
        self.model.add_method(HypothesisDraws(data))

    @rule(data=st.data())
    def change_methods(self, data: st.DataObject) -> None:
        self.model.change_methods(HypothesisDraws(data))

    @rule(data=st.data())
    def subscribe(self, data: st.DataObject) -> None:
        self.model.subscribe(HypothesisDraws(data))

    @rule(data=st.data())
    def change_subscription(self, data: st.DataObject) -> None:
        self.model.change_subscription(HypothesisDraws(data))

    @rule(data=st.data())
    def time_passes_and_billing_runs(self, data: st.DataObject) -> None:
        self.model.time_passes_and_billing_runs(HypothesisDraws(data))

    @rule(data=st.data())
    def customer_pays_an_invoice(self, data: st.DataObject) -> None:
        self.model.customer_pays_an_invoice(HypothesisDraws(data))

    @rule(data=st.data())
    def pay_bad_debt(self, data: st.DataObject) -> None:
        self.model.pay_bad_debt(HypothesisDraws(data))

    @rule(data=st.data())
    def a_wait_for_the_customer_ends(self, data: st.DataObject) -> None:
        self.model.a_wait_for_the_customer_ends(HypothesisDraws(data))

    @rule(data=st.data())
    def write_off(self, data: st.DataObject) -> None:
        self.model.write_off(HypothesisDraws(data))

    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        self.model.void(HypothesisDraws(data))

    @rule(data=st.data())
    def money_comes_back(self, data: st.DataObject) -> None:
        self.model.money_comes_back(HypothesisDraws(data))

    @rule(data=st.data())
    def credits(self, data: st.DataObject) -> None:
        self.model.credits(HypothesisDraws(data))

    @rule(data=st.data())
    def wind_down_and_close(self, data: st.DataObject) -> None:
        self.model.wind_down_and_close(HypothesisDraws(data))

    @invariant()
    def every_entry_balances_and_receivable_matches_invoices(self) -> None:
        invariants.journal_balances_and_receivable_is_owed(self.model)

    @invariant()
    def no_invoice_is_paid_twice(self) -> None:
        invariants.no_invoice_is_paid_twice(self.model)

    @invariant()
    def bad_debt_iff_something_is_uncollectible(self) -> None:
        invariants.bad_debt_iff_something_is_uncollectible(self.model)

    @invariant()
    def replay_equals_live_state(self) -> None:
        invariants.replay_equals_live_state(self.model)

    @invariant()
    def read_models_equal_a_rebuild(self) -> None:
        invariants.read_models_equal_a_rebuild(self.model, self.folds)


AccountMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("LEDGER_INVARIANT_EXAMPLES", "40")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestAccountInvariants = AccountMachine.TestCase
