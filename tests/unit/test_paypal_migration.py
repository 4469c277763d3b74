"""The PayPal token migration's planning and batch logic, on the in-memory store with an
honest fake of the vault (tests/fakes/paypal_vault.py)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.postgres.paypal_candidates import METHOD_ADDED_TOPIC
from adapters.throttle import Throttle
from commands import accounts, methods
from commands.base import CommandResult, Deps, load_account
from commands.models import AddCard, AddPayPal, CommandContext, MigrateToken, RevokePayPal
from commands.paypal_migration import (
    STOPPED,
    Outcome,
    TokenMigration,
    command_id_for,
    new_token_for,
    plan_account,
)
from ledger import events as ev
from ledger.methods import CollectionPath, VaultPath
from tests.fakes.builders import customer_ctx, open_cmd, support_ctx
from tests.fakes.paypal_vault import CountingThrottle, FakeRevaulter


def legacy_account(
    deps: Deps, vault: FakeRevaulter, *, card_default: bool = False, token: str | None = None
) -> UUID:
    account_id = accounts.open_account(deps, open_cmd(), customer_ctx()).account_id
    if card_default:
        card = AddCard(
            account_id=account_id, processor_ref=f"pm_{uuid4().hex}", brand="visa",
            last4="4242", exp_month=12, exp_year=2030,
        )  # fmt: skip
        methods.add_card(deps, card, customer_ctx())
    token = token or f"legacy-{uuid4().hex[:12]}"
    vault.add(str(account_id), token)
    add = AddPayPal(
        account_id=account_id, token=token, payer_email="payer@example.com",
        legacy_vault=True, make_default=not card_default,
    )  # fmt: skip
    methods.add_paypal(deps, add, customer_ctx())
    return account_id


def paypal_method_id(deps: Deps, account_id: UUID) -> str:
    account = load_account(deps.app, account_id)
    return next(m.method_id for m in account.methods.values() if m.kind.value == "paypal")


@pytest.fixture
def vault() -> FakeRevaulter:
    return FakeRevaulter()


@pytest.fixture
def throttle() -> CountingThrottle:
    return CountingThrottle()


@pytest.fixture
def job(deps: Deps, vault: FakeRevaulter, throttle: CountingThrottle) -> TokenMigration:
    return TokenMigration(deps, vault, throttle, support_ctx("paypal token migration"))


def test_the_plan_lists_legacy_paypal_methods_with_their_collection_path(
    deps: Deps, vault: FakeRevaulter
) -> None:
    paypal_default = legacy_account(deps, vault)
    card_default = legacy_account(deps, vault, card_default=True)
    [first] = plan_account(load_account(deps.app, paypal_default))
    [second] = plan_account(load_account(deps.app, card_default))
    assert first.to_migrate
    assert first.is_default
    assert first.collection_path is CollectionPath.STRIPE_AUTOMATIC  # the wrong path
    assert "charge_automatically -> send_invoice" in first.action
    assert first.customer_id == str(paypal_default)
    assert first.new_ref == new_token_for(paypal_default, first.method_id)
    assert second.to_migrate
    assert not second.is_default
    assert second.collection_path is CollectionPath.STRIPE_AUTOMATIC
    assert "stays charge_automatically" in second.action


def test_billing_agreement_methods_are_not_planned_and_unusable_ones_are_skipped(
    deps: Deps, vault: FakeRevaulter
) -> None:
    account_id = legacy_account(deps, vault)
    agreement = AddPayPal(
        account_id=account_id, token="ba-token", billing_agreement_id="B-1",
        payer_email="payer@example.com",
    )  # fmt: skip
    methods.add_paypal(deps, agreement, customer_ctx())
    legacy_id = paypal_method_id(deps, account_id)
    methods.revoke_paypal(
        deps, RevokePayPal(account_id=account_id, method_id=legacy_id), customer_ctx()
    )
    [planned] = plan_account(load_account(deps.app, account_id))
    assert planned.method_id == legacy_id
    assert planned.skip_reason == "method revoked"


def test_a_dry_run_asks_nothing_and_records_nothing(
    deps: Deps, vault: FakeRevaulter, throttle: CountingThrottle, job: TokenMigration
) -> None:
    ids = [legacy_account(deps, vault), legacy_account(deps, vault, card_default=True)]
    versions = [load_account(deps.app, a).version for a in ids]
    report = job.run(ids, dry_run=True)
    assert [r.outcome for r in report.results] == [Outcome.WOULD_MIGRATE] * 2
    assert "re-vault" in (report.results[0].reason or "")
    assert [load_account(deps.app, a).version for a in ids] == versions
    assert (vault.calls, throttle.waits) == (0, 0)


def test_migration_records_the_event_once_and_a_rerun_does_nothing(
    deps: Deps, vault: FakeRevaulter, throttle: CountingThrottle, job: TokenMigration
) -> None:
    account_id = legacy_account(deps, vault)
    method_id = paypal_method_id(deps, account_id)
    [result] = job.run([account_id]).results
    assert result.outcome is Outcome.MIGRATED
    assert result.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
    last = list(deps.app.events.get(account_id))[-1]
    assert isinstance(last, ev.PaymentMethodTokenMigrated)
    assert last.new_ref == new_token_for(account_id, method_id)
    assert last.billing_agreement_id == result.billing_agreement_id
    assert last.meta.command_id == command_id_for(account_id, method_id)
    method = load_account(deps.app, account_id).methods[method_id]
    assert method.vault_path is VaultPath.BILLING_AGREEMENT
    version = load_account(deps.app, account_id).version

    [again] = job.run([account_id]).results
    assert (again.outcome, again.reason) == (Outcome.SKIPPED, "already migrated")
    assert load_account(deps.app, account_id).version == version
    assert len(vault.vaulted) == 1
    assert throttle.waits == 1  # skipped methods never wait for the rate limit


def test_failures_are_reported_and_the_batch_goes_on(
    deps: Deps, vault: FakeRevaulter, job: TokenMigration
) -> None:
    revoked = legacy_account(deps, vault, token="revoked-token")
    vault.revoked.add("revoked-token")
    unknown = legacy_account(deps, vault, token="gone-token")
    del vault.methods["gone-token"]
    refused = legacy_account(deps, vault, token="no-agreement-token")
    vault.no_agreement.add("no-agreement-token")
    fine = legacy_account(deps, vault)
    report = job.run([revoked, unknown, refused, fine])
    outcomes = {
        r.plan.account_id: (r.outcome, (r.reason or "").split(":")[0]) for r in report.results
    }
    assert outcomes == {
        revoked: (Outcome.FAILED, "paypal_account_revoked"),
        unknown: (Outcome.FAILED, "paypal_method_not_found"),
        refused: (Outcome.FAILED, "paypal_vault_refused"),
        fine: (Outcome.MIGRATED, ""),
    }
    assert report.stopped is None
    assert (
        load_account(deps.app, revoked).methods[paypal_method_id(deps, revoked)].vault_path
        is VaultPath.LEGACY
    )


def test_an_outage_stops_the_batch_and_a_rerun_resumes(
    deps: Deps, vault: FakeRevaulter, job: TokenMigration
) -> None:
    ids = [legacy_account(deps, vault) for _ in range(3)]
    vault.down = True
    report = job.run(ids)
    assert report.stopped == STOPPED
    assert [(r.plan.account_id, r.outcome) for r in report.results] == [(ids[0], Outcome.FAILED)]
    vault.down = False
    again = job.run(ids)
    assert [r.outcome for r in again.results] == [Outcome.MIGRATED] * 3


def test_limit_caps_the_methods_migrated_in_one_run(
    deps: Deps, vault: FakeRevaulter, job: TokenMigration
) -> None:
    ids = [legacy_account(deps, vault) for _ in range(3)]
    first = job.run(ids, limit=2)
    assert [r.outcome for r in first.results] == [Outcome.MIGRATED] * 2
    second = job.run(ids, limit=2)
    assert [r.outcome for r in second.results] == [
        Outcome.SKIPPED, Outcome.SKIPPED, Outcome.MIGRATED,
    ]  # fmt: skip


def test_a_crash_before_recording_is_resumed_without_vaulting_twice(
    deps: Deps, vault: FakeRevaulter, throttle: CountingThrottle
) -> None:
    account_id = legacy_account(deps, vault)

    def crash(_deps: Deps, _cmd: MigrateToken, _ctx: CommandContext) -> CommandResult:
        raise RuntimeError("killed between Braintree and the event store")

    ctx = support_ctx("paypal token migration")
    with pytest.raises(RuntimeError):
        TokenMigration(deps, vault, throttle, ctx, record=crash).run([account_id])
    assert len(vault.vaulted) == 1
    [planned] = plan_account(load_account(deps.app, account_id))
    assert planned.to_migrate  # nothing was recorded

    [result] = TokenMigration(deps, vault, throttle, ctx).run([account_id]).results
    assert result.outcome is Outcome.MIGRATED
    assert len(vault.vaulted) == 1  # found at Braintree, not vaulted again


def test_the_new_token_and_command_id_are_deterministic_per_method() -> None:
    account_id = uuid4()
    assert new_token_for(account_id, "m1") == new_token_for(account_id, "m1")
    assert new_token_for(account_id, "m1") != new_token_for(account_id, "m2")
    assert len(new_token_for(account_id, "m1")) <= 36  # Braintree's token limit
    assert command_id_for(account_id, "m1") == command_id_for(account_id, "m1")
    assert command_id_for(account_id, "m1") != command_id_for(uuid4(), "m1")


def test_an_unknown_account_has_an_empty_plan(job: TokenMigration) -> None:
    report = job.run([uuid4()])
    assert (report.accounts_seen, report.results) == (1, [])


class _Waited(Exception):
    """Raised by the test's sleep: the throttle asked to wait."""


def test_the_throttle_grants_the_rate_then_makes_the_next_caller_wait() -> None:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        raise _Waited  # time does not pass here: stop at the first wait

    throttle = Throttle("3/minute", sleep=sleep)
    for _ in range(3):
        throttle.wait()
    with pytest.raises(_Waited):
        throttle.wait()
    assert (throttle.granted, throttle.waits) == (3, 1)
    assert 0 < sleeps[0] <= 60


def test_the_candidate_scan_uses_the_topic_of_the_partial_index() -> None:
    index = (Path(__file__).parents[2] / "migrations" / "0009_method_added_index.sql").read_text()
    assert f"WHERE topic = '{METHOD_ADDED_TOPIC}'" in index
