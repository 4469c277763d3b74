"""The PayPal token migration against the real store and the local Braintree gateway through
the official SDK: re-vaulting in the adapter, the batch job, the candidate scan, the CLI."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.braintree import BraintreeClient, BraintreePayPalVault
from adapters.cli.main import app as cli
from adapters.postgres.paypal_candidates import LegacyPayPalAccounts
from adapters.throttle import Throttle
from commands import accounts, methods
from commands.base import CommandResult, Deps, load_account
from commands.methods import migrate_token
from commands.models import AddCard, AddPayPal, CommandContext, LinkProviderCustomer, MigrateToken
from commands.paypal_migration import (
    STOPPED,
    Outcome,
    Record,
    TokenMigration,
    command_id_for,
    new_token_for,
)
from commands.paypal_ports import PayPalAccountRevoked, PayPalMethodNotFound, PayPalVaultRefused
from commands.ports import ProcessorUnavailable
from ledger import events as ev
from ledger.methods import CollectionPath, MethodKind, VaultPath
from ledger.payments import Processor
from tests.braintree_gateway import (
    BILLING_AGREEMENT_NONCE,
    FUTURE_NONCE,
    LocalBraintreeGateway,
)
from tests.fakes.builders import customer_ctx, open_cmd, support_ctx
from tests.fakes.tokens import token_of
from tests.integration.kill_after_revault import revault_and_die
from tests.integration.test_braintree_gateway import config_for

VAULT = r"/payment_methods"
NONCES = r"/payment_methods/[^/]+/nonces"


@pytest.fixture
def vault(braintree_server: LocalBraintreeGateway) -> BraintreePayPalVault:
    return BraintreePayPalVault(BraintreeClient.from_config(config_for(braintree_server)))


def migration(
    container: Container,
    vault: BraintreePayPalVault,
    *,
    throttle: Throttle | None = None,
    record: Record = migrate_token,
) -> TokenMigration:
    ctx = support_ctx("paypal token migration")
    return TokenMigration(
        container.deps, vault, throttle or Throttle("1000/second"), ctx, record=record
    )


def legacy_token(account_id: UUID, index: int) -> str:
    """A token the old vault path gave: Braintree's shape, at most 36 characters."""
    return f"lg-{token_of(account_id, 24)}-{index}"


def legacy_account(
    deps: Deps, vault: BraintreePayPalVault, *, card_default: bool = False, n: int = 1
) -> UUID:
    """An account whose PayPal method was vaulted through the legacy path (no agreement)."""
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    customer = vault.create_customer(str(account_id), "Ada Lovelace", "ada@example.com")
    link = LinkProviderCustomer(
        account_id=account_id, processor=Processor.BRAINTREE, customer_id=customer
    )
    methods.link_provider_customer(deps, link, customer_ctx())
    if card_default:
        card = AddCard(
            account_id=account_id, processor_ref=f"pm_card_{account_id.hex[:8]}", brand="visa",
            last4="4242", exp_month=12, exp_year=2030,
        )  # fmt: skip
        methods.add_card(deps, card, customer_ctx())
    for i in range(n):
        legacy = vault.vault_nonce(customer, FUTURE_NONCE, method_ref=legacy_token(account_id, i))
        assert legacy.billing_agreement_id is None
        add = AddPayPal(
            account_id=account_id, token=legacy.method_ref, payer_email="payer@example.com",
            legacy_vault=True, make_default=not card_default,
        )  # fmt: skip
        methods.add_paypal(deps, add, customer_ctx())
    return account_id


def paypal_methods(container: Container, account_id: UUID) -> list[str]:
    account = load_account(container.app, account_id)
    return [m.method_id for m in account.methods.values() if m.kind is MethodKind.PAYPAL]


def head(container: Container) -> int:
    return container.reader.head()


# the adapter ---------------------------------------------------------------------------------
def test_revaulting_gives_a_billing_agreement_for_the_same_payer(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    old = vault.vault_nonce("acct-1", FUTURE_NONCE, method_ref="old-1")
    new = vault.revault_as_billing_agreement("acct-1", "old-1", new_ref="new-1")
    assert (new.method_ref, new.customer_id) == ("new-1", "acct-1")
    assert new.billing_agreement_id is not None
    assert new.billing_agreement_id.startswith("B-")
    assert (
        braintree_server.state.accounts["new-1"].payer_id
        == braintree_server.state.accounts[old.method_ref].payer_id
    )
    assert vault.find_method("old-1") is not None  # the old record stays

    again = vault.revault_as_billing_agreement("acct-1", "old-1", new_ref="new-1")
    assert again.billing_agreement_id == new.billing_agreement_id
    assert (
        braintree_server.calls.count("POST", VAULT) == 2
    )  # the legacy vaulting and one re-vaulting


def test_revaulting_refusals(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    vault.create_customer("acct-2", "Bob", "bob@example.com")
    vault.vault_nonce("acct-1", FUTURE_NONCE, method_ref="old-1")
    with pytest.raises(PayPalMethodNotFound):
        vault.revault_as_billing_agreement("acct-1", "nothing-here", new_ref="new-1")
    with pytest.raises(PayPalMethodNotFound):  # another customer's token
        vault.revault_as_billing_agreement("acct-2", "old-1", new_ref="new-2")
    braintree_server.revoke("old-1")
    with pytest.raises(PayPalAccountRevoked):
        vault.revault_as_billing_agreement("acct-1", "old-1", new_ref="new-1")
    assert braintree_server.calls.count("POST", NONCES) == 0


def test_the_gateway_refuses_a_nonce_for_a_revoked_or_unknown_token(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    vault.vault_nonce("acct-1", FUTURE_NONCE, method_ref="old-1")
    braintree_server.revoke("old-1")
    result = vault._client.sdk.payment_method_nonce.create("old-1")
    assert not result.is_success
    assert [e.code for e in result.errors.deep_errors] == ["82941"]
    with pytest.raises(PayPalMethodNotFound):
        vault._nonce_for("unknown-token")


def test_a_revaulting_without_agreement_is_deleted_and_refused(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    vault.vault_nonce("acct-1", FUTURE_NONCE, method_ref="old-1")
    braintree_server.withhold_agreement("old-1")
    with pytest.raises(PayPalVaultRefused):
        vault.revault_as_billing_agreement("acct-1", "old-1", new_ref="new-1")
    assert vault.find_method("new-1") is None


def test_a_revaulting_whose_answer_is_lost_is_found_not_repeated(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    vault.vault_nonce("acct-1", FUTURE_NONCE, method_ref="old-1")
    braintree_server.lose_responses(method="POST", path=VAULT, times=1)
    new = vault.revault_as_billing_agreement("acct-1", "old-1", new_ref="new-1")
    assert new.billing_agreement_id is not None
    assert braintree_server.calls.count("POST", VAULT) == 2  # the legacy vaulting and the lost one


def test_an_outage_is_processor_unavailable(
    vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    vault.create_customer("acct-1", "Ada", "ada@example.com")
    vault.vault_nonce("acct-1", FUTURE_NONCE, method_ref="old-1")
    braintree_server.fail(503, path=NONCES)
    with pytest.raises(ProcessorUnavailable):
        vault.revault_as_billing_agreement("acct-1", "old-1", new_ref="new-1")
    assert braintree_server.calls.count("POST", NONCES) == 3  # a nonce is safe to ask for again
    assert vault.find_method("new-1") is None


# the job ---------------------------------------------------------------------------------------
def test_a_dry_run_changes_nothing_anywhere(
    container: Container, vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    ids = [legacy_account(container.deps, vault), legacy_account(container.deps, vault)]
    before, calls = head(container), len(braintree_server.calls.seen)
    report = migration(container, vault).run(ids, dry_run=True)
    assert [r.outcome for r in report.results] == [Outcome.WOULD_MIGRATE] * 2
    assert head(container) == before
    assert len(braintree_server.calls.seen) == calls  # not even a lookup
    assert all(
        m.vault_path is VaultPath.LEGACY
        for a in ids
        for m in load_account(container.app, a).methods.values()
    )


def test_migration_records_events_and_collects_paypal_through_the_agreement(
    container: Container, vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    paypal_default = legacy_account(container.deps, vault)
    card_default = legacy_account(container.deps, vault, card_default=True)
    for account_id in (paypal_default, card_default):  # the legacy path: the wrong one
        path = load_account(container.app, account_id).collection_path
        assert path is CollectionPath.STRIPE_AUTOMATIC
    report = migration(container, vault).run([paypal_default, card_default])
    assert [r.outcome for r in report.results] == [Outcome.MIGRATED] * 2

    for account_id, path in (
        (paypal_default, CollectionPath.PAYPAL_SEND_INVOICE),  # moved by the migration
        (card_default, CollectionPath.STRIPE_AUTOMATIC),  # the default decides, not PayPal
    ):
        account = load_account(container.app, account_id)
        [method_id] = paypal_methods(container, account_id)
        method = account.methods[method_id]
        at_braintree = vault.find_method(new_token_for(account_id, method_id))
        assert at_braintree is not None
        assert method.processor_ref == at_braintree.method_ref
        assert method.billing_agreement_id == at_braintree.billing_agreement_id
        assert method.vault_path is VaultPath.BILLING_AGREEMENT
        assert account.collection_path is path
        last = list(container.app.events.get(account_id))[-1]
        assert isinstance(last, ev.PaymentMethodTokenMigrated)
        assert last.meta.command_id == command_id_for(account_id, method_id)
        assert last.meta.reason == "paypal token migration"


def test_a_rerun_after_success_does_nothing(
    container: Container, vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    ids = [legacy_account(container.deps, vault, n=2), legacy_account(container.deps, vault)]
    first = migration(container, vault).run(ids)
    assert first.count(Outcome.MIGRATED) == 3
    before, calls = head(container), len(braintree_server.calls.seen)
    again = migration(container, vault).run(ids)
    assert [(r.outcome, r.reason) for r in again.results] == [
        (Outcome.SKIPPED, "already migrated")
    ] * 3
    assert head(container) == before
    assert len(braintree_server.calls.seen) == calls


def test_a_crash_between_braintree_and_the_event_is_resumed_with_one_vaulting(
    container: Container, vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    account_id = legacy_account(container.deps, vault)
    [method_id] = paypal_methods(container, account_id)
    vaulted_before = braintree_server.calls.count("POST", VAULT)

    def crash(_deps: Deps, _cmd: MigrateToken, _ctx: CommandContext) -> CommandResult:
        raise RuntimeError("the process died before recording")

    with pytest.raises(RuntimeError):
        migration(container, vault, record=crash).run([account_id])
    account = load_account(container.app, account_id)
    assert account.methods[method_id].vault_path is VaultPath.LEGACY

    [result] = migration(container, vault).run([account_id]).results
    assert result.outcome is Outcome.MIGRATED
    assert braintree_server.calls.count("POST", VAULT) == vaulted_before + 1  # vaulted once in all
    customer = vault.find_customer(str(account_id))
    assert customer is not None
    assert len(customer.method_refs) == 2  # the legacy record and exactly one agreement
    migrated = [
        e
        for e in container.app.events.get(account_id)
        if isinstance(e, ev.PaymentMethodTokenMigrated)
    ]
    assert len(migrated) == 1


def test_revoked_and_unknown_tokens_fail_without_stopping_the_batch(
    container: Container, vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    revoked, unknown, fine = (legacy_account(container.deps, vault) for _ in range(3))
    braintree_server.revoke(legacy_token(revoked, 0))
    vault.delete_method(legacy_token(unknown, 0))
    report = migration(container, vault).run([revoked, unknown, fine])
    got = {r.plan.account_id: (r.outcome, (r.reason or "").split(":")[0]) for r in report.results}
    assert got == {
        revoked: (Outcome.FAILED, "paypal_account_revoked"),
        unknown: (Outcome.FAILED, "paypal_method_not_found"),
        fine: (Outcome.MIGRATED, ""),
    }
    assert report.stopped is None
    for account_id in (revoked, unknown):
        [method_id] = paypal_methods(container, account_id)
        method = load_account(container.app, account_id).methods[method_id]
        assert method.vault_path is VaultPath.LEGACY


def test_an_outage_stops_the_batch_cleanly_and_a_rerun_resumes(
    container: Container, vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    ids = [legacy_account(container.deps, vault) for _ in range(2)]
    braintree_server.fail(500, path=NONCES)
    report = migration(container, vault).run(ids)
    assert report.stopped == STOPPED
    assert [(r.plan.account_id, r.outcome) for r in report.results] == [(ids[0], Outcome.FAILED)]
    braintree_server.clear_faults()
    again = migration(container, vault).run(ids)
    assert [r.outcome for r in again.results] == [Outcome.MIGRATED] * 2


def test_the_rate_limit_is_honoured(
    container: Container, vault: BraintreePayPalVault, braintree_server: LocalBraintreeGateway
) -> None:
    ids = [legacy_account(container.deps, vault) for _ in range(3)]
    throttle = Throttle("2/second")
    report = migration(container, vault, throttle=throttle).run(ids)
    assert report.count(Outcome.MIGRATED) == 3
    assert throttle.granted == 3
    assert throttle.waits >= 1  # the third had to wait for the window
    assert braintree_server.calls.count("POST", NONCES) == 3


# candidates --------------------------------------------------------------------------------------
def test_candidates_are_the_accounts_with_a_legacy_paypal_method_each_once(
    container: Container, vault: BraintreePayPalVault
) -> None:
    deps = container.deps
    two = legacy_account(deps, vault, n=2)
    one = legacy_account(deps, vault, card_default=True)
    agreement_only = accounts.open_account(deps, open_cmd(), customer_ctx()).account_id
    vault.create_customer(str(agreement_only), "Bob", "bob@example.com")
    ba = vault.vault_nonce(str(agreement_only), BILLING_AGREEMENT_NONCE, method_ref="ba-1")
    add = AddPayPal(
        account_id=agreement_only, token=ba.method_ref,
        billing_agreement_id=ba.billing_agreement_id, payer_email="bob@example.com",
    )  # fmt: skip
    methods.add_paypal(deps, add, customer_ctx())
    assert list(LegacyPayPalAccounts(container.app, page=1).account_ids()) == [two, one]
    assert list(LegacyPayPalAccounts(container.app).account_ids()) == [two, one]


def test_the_candidate_scan_reads_along_the_partial_index(container: Container) -> None:
    with psycopg.connect(container.db.conninfo) as conn:
        conn.execute("SET enable_seqscan = off")
        query = (
            "EXPLAIN SELECT notification_id FROM ledger_events"
            " WHERE topic = 'ledger.events:PaymentMethodAdded' AND notification_id > 0"
            " ORDER BY notification_id LIMIT 1000"
        )
        plan = "\n".join(row[0] for row in conn.execute(query).fetchall())
    assert "ledger_events_method_added_idx" in plan


def ledger_env(database_url: str, braintree_server: LocalBraintreeGateway) -> dict[str, str]:
    return {
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_LOG_JSON": "true",
        "LEDGER_BRAINTREE_MERCHANT_ID": braintree_server.merchant_id,
        "LEDGER_BRAINTREE_PUBLIC_KEY": braintree_server.public_key,
        "LEDGER_BRAINTREE_PRIVATE_KEY": braintree_server.private_key,
        "LEDGER_BRAINTREE_ENVIRONMENT": "local",
        "LEDGER_BRAINTREE_PORT": str(braintree_server.port),
    }


def test_a_process_killed_after_vaulting_is_resumed_with_one_vaulting(
    container: Container,
    vault: BraintreePayPalVault,
    braintree_server: LocalBraintreeGateway,
    database_url: str,
) -> None:
    account_id = legacy_account(container.deps, vault)
    [method_id] = paypal_methods(container, account_id)
    vaulted_before, before = braintree_server.calls.count("POST", VAULT), head(container)
    revault_and_die(ledger_env(database_url, braintree_server), account_id)
    assert braintree_server.calls.count("POST", VAULT) == vaulted_before + 1
    assert vault.find_method(new_token_for(account_id, method_id)) is not None
    assert head(container) == before  # died before recording

    [result] = migration(container, vault).run([account_id]).results
    assert result.outcome is Outcome.MIGRATED
    assert braintree_server.calls.count("POST", VAULT) == vaulted_before + 1  # not vaulted again
    method = load_account(container.app, account_id).methods[method_id]
    assert method.processor_ref == new_token_for(account_id, method_id)
    assert method.vault_path is VaultPath.BILLING_AGREEMENT


# the CLI ------------------------------------------------------------------------------------------
def test_the_cli_prints_the_plan_then_migrates(
    container: Container,
    vault: BraintreePayPalVault,
    braintree_server: LocalBraintreeGateway,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account_id = legacy_account(container.deps, vault)
    for name, value in ledger_env(database_url, braintree_server).items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    before = head(container)
    dry = runner.invoke(cli, ["paypal", "migrate-tokens", "--dry-run"], env={"COLUMNS": "250"})
    assert dry.exit_code == 0, dry.output
    assert str(account_id) in dry.output
    assert "would_migrate" in dry.output
    assert "nothing changed" in dry.output
    assert head(container) == before

    run = runner.invoke(
        cli, ["paypal", "migrate-tokens", "--rate", "10/second"], env={"COLUMNS": "250"}
    )
    assert run.exit_code == 0, run.output
    assert "migrated 1" in run.output
    [method_id] = paypal_methods(container, account_id)
    assert load_account(container.app, account_id).methods[method_id].vault_path is (
        VaultPath.BILLING_AGREEMENT
    )
    bad = runner.invoke(cli, ["paypal", "migrate-tokens", "--rate", "fast"])
    assert bad.exit_code == 2
