"""Idempotency keys through the handlers (in-memory store, fake gateway): a repeat of a
request answers the first request's result and records nothing; the same key with another
request is refused; a repeated payment answers the first's outcome; a repeat while the
first is still charging is told to retry; keys are remembered for the last
REMEMBERED_COMMANDS commands of an account; accounts and events recorded before
fingerprints existed still load."""

from __future__ import annotations

import dataclasses
import threading
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel

from adapters.http.problems import status_of
from commands import billing, credits, methods
from commands.base import CommandResult, Deps, fingerprint, load_account
from commands.collect import PaymentOutcome
from commands.errors import CommandIdReused, CommandInFlight
from commands.models import AddCard, CommandContext, GrantCredit, PayInvoice, Subscribe
from ledger.account import REMEMBERED_COMMANDS, Account
from ledger.errors import NothingToChange
from ledger.meta import EventMeta
from ledger.payments import AttemptStatus
from tests.fakes.billing import CARD, PLAN, usd_account
from tests.fakes.builders import customer_ctx, in_memory_deps, service_ctx, support_ctx
from tests.fakes.gateway import BlockingGateway, FakeGateway


def keyed(ctx: CommandContext, key: UUID, cmd: BaseModel) -> CommandContext:
    """A context as an edge builds it for a keyed request: the key and its fingerprint."""
    request = fingerprint(type(cmd).__name__, cmd.model_dump(mode="json"))
    return ctx.model_copy(update={"command_id": key, "fingerprint": request})


def events_of(deps: Deps, account_id: UUID) -> int:
    return len(list(deps.app.events.get(account_id)))


def credit(account_id: UUID, amount: int) -> GrantCredit:
    return GrantCredit(account_id=account_id, amount=amount, currency="USD")


def grant(deps: Deps, account_id: UUID, amount: int, key: UUID) -> CommandResult:
    cmd = credit(account_id, amount)
    return credits.grant_credit(deps, cmd, keyed(support_ctx(), key, cmd))


def card(account_id: UUID, ref: str, last4: str) -> AddCard:
    return AddCard(
        account_id=account_id,
        processor_ref=ref,
        brand="visa",
        last4=last4,
        exp_month=12,
        exp_year=2030,
    )


def test_a_key_reused_for_another_credit_is_refused_and_records_nothing() -> None:
    deps = in_memory_deps()
    account_id = usd_account(deps)
    key = uuid4()
    first = grant(deps, account_id, 11, key)
    before = events_of(deps, account_id)
    with pytest.raises(CommandIdReused) as refused:
        grant(deps, account_id, 99_999, key)
    assert refused.value.code == "idempotency_key_reused"
    assert events_of(deps, account_id) == before
    [granted] = load_account(deps.app, account_id).credits.values()
    assert granted.granted.amount == 11
    again = grant(deps, account_id, 11, key)
    assert again == CommandResult(account_id, first.version, first.position, replayed=True)


def test_a_key_reused_for_another_card_is_refused_and_keeps_the_first_card() -> None:
    deps = in_memory_deps()
    account_id = usd_account(deps, card=None)
    key = uuid4()
    first = card(account_id, "pm_first", "4242")
    methods.add_card(deps, first, keyed(service_ctx(), key, first))
    other = card(account_id, "pm_other", "1881")
    with pytest.raises(CommandIdReused):
        methods.add_card(deps, other, keyed(service_ctx(), key, other))
    [method] = load_account(deps.app, account_id).methods.values()
    assert (method.processor_ref, method.last4) == ("pm_first", "4242")


def open_invoice(deps: Deps, gateway: FakeGateway) -> tuple[UUID, str]:
    """An account whose first invoice stayed open (its automatic charge was declined)."""
    account_id = usd_account(deps)
    gateway.decline_next(CARD, "insufficient_funds")
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)
    bought = billing.subscribe(deps, cmd, customer_ctx())
    assert bought.invoice_id is not None
    return account_id, bought.invoice_id


def pay(deps: Deps, account_id: UUID, invoice_id: str, key: UUID) -> PaymentOutcome:
    cmd = PayInvoice(account_id=account_id, invoice_id=invoice_id)
    return billing.pay_invoice(deps, cmd, keyed(customer_ctx(), key, cmd))


def test_a_repeated_payment_answers_what_the_first_did_and_charges_once() -> None:
    gateway = FakeGateway()
    deps = in_memory_deps(gateway=gateway)
    account_id, invoice_id = open_invoice(deps, gateway)
    key = uuid4()
    first = pay(deps, account_id, invoice_id, key)
    assert (first.status, first.result.replayed) == (AttemptStatus.SUCCEEDED, False)
    before = events_of(deps, account_id)
    again = pay(deps, account_id, invoice_id, key)
    assert again.result.replayed
    assert again.result.version == first.result.version
    assert (again.attempt_id, again.invoice_id, again.status, again.decline_code) == (
        first.attempt_id,
        first.invoice_id,
        first.status,
        first.decline_code,
    )
    assert events_of(deps, account_id) == before
    assert len(gateway.charges_for(CARD)) == 2  # the declined purchase and this payment


def test_a_payment_key_reused_for_another_invoice_is_refused() -> None:
    gateway = FakeGateway()
    deps = in_memory_deps(gateway=gateway)
    account_id, invoice_id = open_invoice(deps, gateway)
    key = uuid4()
    pay(deps, account_id, invoice_id, key)
    cmd = PayInvoice(account_id=account_id, invoice_id=invoice_id, method_id="another")
    with pytest.raises(CommandIdReused):
        billing.pay_invoice(deps, cmd, keyed(customer_ctx(), key, cmd))


def test_a_repeated_purchase_answers_the_version_its_payment_reached() -> None:
    gateway = FakeGateway()
    deps = in_memory_deps(gateway=gateway)
    account_id = usd_account(deps)
    key, cmd = uuid4(), Subscribe(account_id=account_id, plan_id=PLAN)
    first = billing.subscribe(deps, cmd, keyed(customer_ctx(), key, cmd))
    again = billing.subscribe(deps, cmd, keyed(customer_ctx(), key, cmd))
    assert first.payment is not None
    assert again.payment is not None
    assert first.result.version == load_account(deps.app, account_id).version
    assert (again.result.version, again.result.replayed) == (first.result.version, True)
    assert (again.subscription_id, again.invoice_id) == (first.subscription_id, first.invoice_id)
    assert (again.payment.attempt_id, again.payment.status) == (
        first.payment.attempt_id,
        first.payment.status,
    )
    assert len(gateway.charges) == 1


def test_a_repeat_while_the_first_is_charging_is_told_to_retry_then_gets_its_answer() -> None:
    gateway = FakeGateway()
    account_id, invoice_id = open_invoice(deps := in_memory_deps(gateway=gateway), gateway)
    blocked = BlockingGateway()
    deps = dataclasses.replace(deps, gateway=blocked)
    key = uuid4()
    answers: list[PaymentOutcome] = []
    first = threading.Thread(target=lambda: answers.append(pay(deps, account_id, invoice_id, key)))
    first.start()
    assert blocked.entered.wait(10)
    with pytest.raises(CommandInFlight) as in_flight:
        pay(deps, account_id, invoice_id, key)
    assert (in_flight.value.code, status_of(in_flight.value)) == ("idempotency_key_in_use", 409)
    assert in_flight.value.retry_after_s > 0
    blocked.release()
    first.join(10)
    [done] = answers
    again = pay(deps, account_id, invoice_id, key)
    assert (again.attempt_id, again.status, again.result.version) == (
        done.attempt_id,
        AttemptStatus.SUCCEEDED,
        done.result.version,
    )
    assert len(blocked.charges) == 1


def test_an_account_remembers_its_last_keys_and_forgets_the_oldest() -> None:
    deps = in_memory_deps()
    account_id = usd_account(deps, card=None)
    keys = [uuid4() for _ in range(REMEMBERED_COMMANDS + 1)]
    for key in keys:
        grant(deps, account_id, 1, key)
    account = load_account(deps.app, account_id)
    assert len(account.commands) == len(account.command_fingerprints) == REMEMBERED_COMMANDS
    assert account.version_after_command(keys[0]) is None
    assert grant(deps, account_id, 1, keys[1]).replayed
    # The forgotten key is a new command again; what it created has an id derived from the
    # key, so the domain still refuses to grant that credit twice.
    with pytest.raises(NothingToChange):
        grant(deps, account_id, 1, keys[0])
    assert len(load_account(deps.app, account_id).credits) == len(keys)


def test_accounts_and_events_recorded_before_fingerprints_still_load() -> None:
    deps = in_memory_deps()
    account_id = usd_account(deps, card=None)
    old_key = uuid4()
    credits.grant_credit(deps, credit(account_id, 5), support_ctx(command_id=old_key))
    # A snapshot as today's code took it: no fingerprints in the aggregate's state.
    account = load_account(deps.app, account_id)
    del account.__dict__["_command_fingerprints"]
    assert deps.app.snapshots is not None
    deps.app.snapshots.put([Account.Snapshot.take(account)])
    restored = load_account(deps.app, account_id)
    assert restored.command_fingerprints == {}
    assert restored.version_after_command(old_key) == account.version
    # A command remembered without a fingerprint is answered as a replay.
    assert grant(deps, account_id, 5, old_key).replayed
    key = uuid4()
    grant(deps, account_id, 7, key)
    with pytest.raises(CommandIdReused):
        grant(deps, account_id, 8, key)


def test_event_metadata_without_a_fingerprint_still_decodes() -> None:
    stored = {
        "actor": {"id": "agent-7", "kind": "support"},
        "surface": "ninjapanel",
        "reason": "outage",
        "correlation_id": str(uuid4()),
        "causation_id": None,
        "command_id": str(uuid4()),
        "occurred_at": "2026-01-01T00:00:00+00:00",
    }
    meta = EventMeta.from_dict(stored)
    assert meta.fingerprint is None
    assert meta.as_dict() == stored  # unkeyed events keep today's shape
