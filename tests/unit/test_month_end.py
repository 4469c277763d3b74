"""The batched billing run (`commands.month_end`) against the one-by-one run: the same
events on every account, the same report; a bad account in the middle of a page is
reported (or billed on its own) and never undoes the others."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from commands import credits, dunning
from commands.base import Deps, load_account
from commands.models import GrantCredit, RunBilling
from commands.one_by_one import RunReport
from ledger.account import Account
from ledger.methods import MethodNotFound
from tests.fakes.builders import in_memory_deps, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.fleet import CTX, KINDS, build_fleet, fleet_deps
from tests.fakes.gateway import FakeGateway

RUNS_DAYS = (31, 1, 2, 2, 3, 4, 31, 1, 3)  # renewals, every retry, exhaustion, next month
RUN_CTX = system_ctx()


def world(size: int) -> tuple[Deps, FakeGateway, FixedClock, list[UUID]]:
    clock, gateway = FixedClock(), FakeGateway()
    deps = fleet_deps(in_memory_deps(clock, gateway))
    return deps, gateway, clock, build_fleet(deps, gateway, size)


def events_of(deps: Deps, account_id: UUID) -> list[tuple[str, int, dict[str, Any]]]:
    """Every event of the account without its wall-clock timestamp (the store's, not the
    ledger's clock)."""
    return [
        (
            type(e).__qualname__,
            e.originator_version,
            {k: v for k, v in vars(e).items() if k != "timestamp"},
        )
        for e in deps.app.events.get(account_id)
    ]


def summary(report: RunReport) -> tuple[Any, ...]:
    """The report, positions aside (global positions depend on how the run interleaves
    accounts), and versions reached aside for accounts whose charge raised: the one-by-one
    run does not count the attempt it started then, the batched run does."""
    attempts = [
        (a.attempt_id, a.invoice_id, a.status, a.decline_code, a.result.version, a.client_secret)
        for a in report.attempts
    ]
    reached = {k: r.version for k, r in report.reached.items() if k not in report.errors}
    return (
        report.accounts,
        report.renewed,
        report.credits_expired,
        attempts,
        report.exhausted,
        report.errors,
        reached,
    )


@pytest.mark.parametrize(("page", "concurrency"), [(1, 1), (4, 1), (500, 1), (500, 8)])
def test_the_batched_run_records_what_the_one_by_one_run_records(
    page: int, concurrency: int
) -> None:
    size = 4 * KINDS
    one, one_gateway, one_clock, ids = world(size)
    batched, gateway, clock, same_ids = world(size)
    batched = dataclasses.replace(batched, charge_concurrency=concurrency)
    assert ids == same_ids
    exhausted: list[str] = []
    for days in RUNS_DAYS:
        one_clock.advance(days=days)
        clock.advance(days=days)
        expected = dunning.run_one_by_one(one, RunBilling(account_ids=ids), RUN_CTX)
        report = dunning.run_billing(batched, RunBilling(account_ids=ids), RUN_CTX, page)
        assert summary(report) == summary(expected)
        exhausted += report.exhausted
        for failed in expected.errors:
            assert report.reached[failed].version >= expected.reached[failed].version
        for account_id in ids:
            assert events_of(batched, account_id) == events_of(one, account_id)
        assert sorted(c.attempt_id for c in gateway.charges) == sorted(
            c.attempt_id for c in one_gateway.charges
        )
    assert len(one_gateway.charges) > size  # the fleet went through renewals and retries
    assert exhausted  # and exhaustion


def test_positions_in_the_report_are_those_of_the_events_recorded() -> None:
    deps, _, clock, ids = world(KINDS)
    clock.advance(days=31)
    report = dunning.run_billing(deps, RunBilling(account_ids=ids), RUN_CTX)
    notifications = deps.app.recorder.select_notifications(start=1, limit=10_000)
    by_event = {(n.originator_id, n.originator_version): n.id for n in notifications}
    for attempt in report.attempts:
        key = (attempt.result.account_id, attempt.result.version)
        assert attempt.result.position == by_event[key]
    for account_id, reached in report.reached.items():
        last = max(v for (a, v) in by_event if str(a) == account_id)
        assert reached.version == last
        if reached.position is not None:
            assert reached.position == by_event[(UUID(account_id), reached.version)]


def test_a_concurrent_write_between_load_and_save_bills_that_account_on_its_own() -> None:
    deps, gateway, clock, ids = world(KINDS)
    poisoned = ids[4]
    real_save = deps.app.save
    state = {"armed": True}

    def save(*objs: Any, **kwargs: Any) -> Any:
        if state["armed"]:  # a rival's write lands between the page's load and its save
            state["armed"] = False
            deps.app.save = real_save  # type: ignore[method-assign]
            grant = GrantCredit(account_id=poisoned, amount=100, currency="USD")
            credits.grant_credit(deps, grant, CTX)
            deps.app.save = save  # type: ignore[method-assign]
        return real_save(*objs, **kwargs)

    deps.app.save = save  # type: ignore[method-assign]
    clock.advance(days=31)
    report = dunning.run_billing(deps, RunBilling(account_ids=ids), RUN_CTX)
    assert report.errors == {str(ids[8]): "ProcessorUnavailable: timed out"}
    assert report.renewed == 6  # the subscribed accounts, the poisoned one among them
    account = load_account(deps.app, poisoned)
    assert [c.granted.amount for c in account.credits.values()] == [100]
    assert any(c.account_id == poisoned for c in gateway.charges)


def test_a_stream_that_fails_to_load_is_reported_and_the_others_are_billed() -> None:
    deps, _, clock, ids = world(KINDS)
    broken = ids[2]
    real_get = deps.app.repository.get

    def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if aggregate_id == broken:
            raise ValueError("cannot decode the stream")
        return real_get(aggregate_id, *args, **kwargs)

    deps.app.repository.get = get  # type: ignore[method-assign]
    clock.advance(days=31)
    report = dunning.run_billing(deps, RunBilling(account_ids=ids), RUN_CTX)
    assert report.errors[str(broken)] == "ValueError: cannot decode the stream"
    assert report.renewed == 5  # the other subscribed accounts
    assert report.accounts == KINDS


def test_a_save_that_fails_for_one_account_only_is_isolated_and_reported() -> None:
    deps, _, clock, ids = world(KINDS)
    broken = ids[0]
    real_save = deps.app.save

    def save(*objs: Any, **kwargs: Any) -> Any:
        if any(getattr(o, "originator_id", getattr(o, "id", None)) == broken for o in objs):
            raise IntegrityError("the stream is broken")
        return real_save(*objs, **kwargs)

    deps.app.save = save  # type: ignore[method-assign]
    clock.advance(days=31)
    report = dunning.run_billing(deps, RunBilling(account_ids=ids), RUN_CTX)
    assert report.errors[str(broken)].startswith("ConcurrencyConflict")
    assert report.renewed == 5
    for account_id in ids[1:]:
        assert str(account_id) in report.reached


def test_a_refusal_keeps_the_steps_before_it_and_is_reported_as_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, _, one_clock, ids = world(KINDS)
    batched, _, clock, _ = world(KINDS)
    refused = {ids[0], ids[4]}
    start_attempt = Account.start_attempt

    def refuse(self: Account, *args: Any, **kwargs: Any) -> Any:
        if self.id in refused:
            raise MethodNotFound("the method was removed")
        return start_attempt(self, *args, **kwargs)

    monkeypatch.setattr(Account, "start_attempt", refuse)
    one_clock.advance(days=31)
    clock.advance(days=31)
    expected = dunning.run_one_by_one(one, RunBilling(account_ids=ids), RUN_CTX)
    report = dunning.run_billing(batched, RunBilling(account_ids=ids), RUN_CTX)
    assert summary(report) == summary(expected)
    for account_id in refused:
        assert report.errors[str(account_id)] == "MethodNotFound: the method was removed"
        renewed = load_account(batched.app, account_id).invoices
        assert len(renewed) == 2  # the renewal before the refusal is kept
    for account_id in ids:
        assert events_of(batched, account_id) == events_of(one, account_id)


class MeetingGateway:
    """The fake processor, whose first `meet` charges wait for each other before answering:
    they can only all be answered if they are in flight at the same time."""

    def __init__(self, inner: FakeGateway, meet: int) -> None:
        self._inner, self._meet = inner, meet
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(meet, timeout=30)
        self.calls = self.in_flight = self.most_in_flight = 0

    def charge(self, request: Any) -> Any:
        with self._lock:
            self.calls += 1
            first = self.calls <= self._meet
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if first:
                self._barrier.wait()
            return self._inner.charge(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_pages_charges_are_made_a_bounded_number_at_a_time() -> None:
    deps, gateway, clock, ids = world(4 * KINDS)
    meeting = MeetingGateway(gateway, meet=6)
    deps = dataclasses.replace(deps, gateway=meeting, charge_concurrency=6)
    clock.advance(days=31)
    report = dunning.run_billing(deps, RunBilling(account_ids=ids), RUN_CTX, 500)
    assert meeting.calls > 6
    assert meeting.most_in_flight == 6  # six met (so were in flight together), never more
    assert not [e for e in report.errors.values() if "BrokenBarrier" in e]
