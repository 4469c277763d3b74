"""The in-flight janitor: pending attempts resolved by asking the processor, exactly once."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from uuid import UUID

import pytest

from commands import billing
from commands.base import Deps, load_account, meta_of
from commands.janitor import NOT_RECEIVED, Resolution, resolve_in_flight
from commands.models import Subscribe
from commands.ports import ChargeRequest, ChargeResult, ProcessorUnavailable
from ledger.payments import AttemptStatus, FailureKind, Processor
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

STALE = timedelta(minutes=15)


class LostAnswers(FakeGateway):
    """Charges for real, then loses the answer (a crash or timeout after the charge)."""

    def __init__(self) -> None:
        super().__init__()
        self.lose_next = False
        self.reachable = True

    def charge(self, request: ChargeRequest) -> ChargeResult:
        result = super().charge(request)
        if self.lose_next:
            self.lose_next = False
            raise ProcessorUnavailable("the answer was lost")
        return result

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        if not self.reachable:
            raise ProcessorUnavailable("still down")
        return super().find_charge(attempt_id, processor)


pytestmark = pytest.mark.parametrize("gateway", [LostAnswers], indirect=True)


def pending_purchase(deps: Deps) -> tuple[UUID, str]:
    account_id = usd_account(deps)
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    with pytest.raises(ProcessorUnavailable):
        billing.subscribe(deps, cmd, customer_ctx())
    [attempt] = [a for a in load_account(deps.app, account_id).attempts.values() if a.in_flight]
    return account_id, attempt.attempt_id


def test_a_charge_whose_answer_was_lost_is_recorded_once_as_the_processor_saw_it(
    deps: Deps, gateway: LostAnswers, clock: FixedClock
) -> None:
    gateway.lose_next = True
    account_id, attempt_id = pending_purchase(deps)
    assert resolve_in_flight(deps, account_id, STALE, system_ctx()) == []  # not stale yet
    clock.advance(minutes=16)
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert (resolved.attempt_id, resolved.resolution) == (attempt_id, Resolution.SUCCEEDED)
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    assert attempt.status is AttemptStatus.SUCCEEDED
    assert attempt.processor_payment_id == f"pay_{attempt_id[:8]}"
    assert resolve_in_flight(deps, account_id, STALE, system_ctx()) == []
    assert len(gateway.charges_for(CARD)) == 1  # never charged again


def test_an_attempt_the_processor_never_saw_fails_softly_so_it_can_be_retried(
    deps: Deps, gateway: LostAnswers, clock: FixedClock
) -> None:
    gateway.go_down_next(CARD)
    account_id, attempt_id = pending_purchase(deps)
    clock.advance(hours=1)
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.NOT_RECEIVED
    attempt = load_account(deps.app, account_id).attempts[attempt_id]
    assert (attempt.status, attempt.decline_code) == (AttemptStatus.FAILED, NOT_RECEIVED)
    assert attempt.failure is FailureKind.SOFT


def test_a_processor_that_cannot_be_asked_leaves_the_attempt_pending(
    deps: Deps, gateway: LostAnswers, clock: FixedClock
) -> None:
    gateway.lose_next = True
    account_id, attempt_id = pending_purchase(deps)
    clock.advance(hours=1)
    gateway.reachable = False
    [resolved] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.UNREACHABLE
    assert load_account(deps.app, account_id).attempts[attempt_id].in_flight
    gateway.reachable = True
    [later] = resolve_in_flight(deps, account_id, STALE, system_ctx())
    assert later.resolution is Resolution.SUCCEEDED


def test_an_attempt_recorded_meanwhile_is_left_alone(
    deps: Deps, gateway: LostAnswers, clock: FixedClock
) -> None:
    gateway.lose_next = True
    account_id, attempt_id = pending_purchase(deps)
    clock.advance(hours=1)
    version = load_account(deps.app, account_id).version

    class RecordsMeanwhile(LostAnswers):
        def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
            found = gateway.find_charge(attempt_id, processor)
            account = load_account(deps.app, account_id)  # a webhook records it first
            account.record_failure(attempt_id, "card_declined", meta_of(deps, system_ctx()))
            deps.app.save(account)
            return found

    racing = dataclasses.replace(deps, gateway=RecordsMeanwhile())
    [resolved] = resolve_in_flight(racing, account_id, STALE, system_ctx())
    assert resolved.resolution is Resolution.ALREADY_RESOLVED
    account = load_account(deps.app, account_id)
    assert account.version == version + 1  # only the webhook's event
    assert account.attempts[attempt_id].decline_code == "card_declined"
