"""The PayPal token migration: a batch job that moves PayPal methods vaulted through the
legacy path onto properly vaulted billing agreements.

For each legacy PayPal method still usable on an open account: the PayPal vault re-vaults
the account at Braintree as a billing agreement under a token derived from the method
(`new_token_for`), then `MigrateToken` records `PaymentMethodTokenMigrated` under a command
id derived the same way (`command_id_for`). So:

* a rerun after success finds every method on the billing-agreement path and does nothing;
* a crash between the Braintree call and the event is resumed by the next run: the vault
  finds the token already vaulted (no second vaulting) and the event is recorded once;
* a failure of one method (revoked at PayPal, unknown token) is reported and the batch goes
  on; a processor outage (`ProcessorUnavailable`) stops the batch, to be rerun later.

The collection path follows the default method (ledger.methods.collection_path), and a
legacy-vaulted PayPal default is the wrong dunning path (`charge_automatically`). So an
account whose default is the migrated method moves, with all its subscriptions, to
`send_invoice`, collected through the billing agreement; the migrated method does not become
the default where it was not (the default is the customer's choice), so a card default
stays `charge_automatically`. The report shows each account's path before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from uuid import UUID, uuid5

from commands.base import CommandResult, Deps, load_account
from commands.errors import AccountNotFound
from commands.methods import migrate_token
from commands.models import CommandContext, MigrateToken
from commands.paypal_ports import VaultedPayPal
from commands.ports import ProcessorUnavailable
from ledger.account import Account, AccountStatus
from ledger.errors import DomainError
from ledger.methods import CollectionPath, MethodKind, PaymentMethod, VaultPath
from ledger.payments import Processor

_NAMESPACE = UUID("0b3c6f2e-7d41-4c8a-9a55-2f1e8d6b4c90")
STOPPED = "processor unavailable: the batch stopped here; rerun to resume"


class LegacyPayPalAccounts(Protocol):
    """Where candidates come from (adapters.postgres.paypal_candidates)."""

    def account_ids(self) -> Iterable[UUID]: ...


class Revaulter(Protocol):
    """The part of commands.paypal_ports.PayPalVault the job uses."""

    def revault_as_billing_agreement(
        self, customer_id: str, old_ref: str, *, new_ref: str, make_default: bool = False
    ) -> VaultedPayPal: ...


class Throttle(Protocol):
    def wait(self) -> None:
        """Blocks until one more migration may start within the rate limit."""
        ...


Record = Callable[[Deps, MigrateToken, CommandContext], CommandResult]


class Outcome(StrEnum):
    WOULD_MIGRATE = "would_migrate"  # dry run
    MIGRATED = "migrated"
    SKIPPED = "skipped"
    FAILED = "failed"


def new_token_for(account_id: UUID, method_id: str) -> str:
    """The Braintree token of the migrated method: the same on every run (36 characters,
    Braintree's limit)."""
    return str(uuid5(_NAMESPACE, f"paypal-token:{account_id}:{method_id}"))


def command_id_for(account_id: UUID, method_id: str) -> UUID:
    return uuid5(_NAMESPACE, f"paypal-token-migration:{account_id}:{method_id}")


@dataclass(frozen=True)
class PlannedMethod:
    """One PayPal method of a candidate account, and what the job does with it."""

    account_id: UUID
    method_id: str
    customer_id: str
    old_ref: str
    new_ref: str
    is_default: bool
    collection_path: CollectionPath
    skip_reason: str | None = None

    @property
    def to_migrate(self) -> bool:
        return self.skip_reason is None

    @property
    def action(self) -> str:
        if self.skip_reason is not None:
            return f"skip: {self.skip_reason}"
        if self.is_default:  # the default decides the path: the migration moves it
            path = (
                f"collection path {self.collection_path.value} -> "
                f"{CollectionPath.PAYPAL_SEND_INVOICE.value} (the default: collected through "
                "the billing agreement)"
            )
        else:
            path = f"collection path stays {self.collection_path.value} (not the default)"
        return f"re-vault {self.old_ref} as billing agreement {self.new_ref}; {path}"


@dataclass(frozen=True)
class MethodResult:
    plan: PlannedMethod
    outcome: Outcome
    reason: str | None = None
    collection_path: CollectionPath | None = None  # after the migration
    billing_agreement_id: str | None = None

    @property
    def stops_batch(self) -> bool:
        return self.outcome is Outcome.FAILED and self.reason == STOPPED


@dataclass
class MigrationReport:
    results: list[MethodResult] = field(default_factory=list)
    accounts_seen: int = 0
    stopped: str | None = None  # why the batch stopped early (a processor outage)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)


def plan_account(account: Account) -> list[PlannedMethod]:
    """The account's legacy PayPal methods (and the ones this job migrated already, so a
    rerun reports them), each with the reason it is skipped, if it is."""
    methods = [m for m in account.methods.values() if m.kind is MethodKind.PAYPAL]
    return [
        _planned(account, m)
        for m in sorted(methods, key=lambda m: m.added_seq)
        if m.vault_path is VaultPath.LEGACY
        or m.processor_ref == new_token_for(account.id, m.method_id)
    ]


def _planned(account: Account, method: PaymentMethod) -> PlannedMethod:
    customer = account.provider_customers.get(Processor.BRAINTREE.value, str(account.id))
    return PlannedMethod(
        account_id=account.id,
        method_id=method.method_id,
        customer_id=customer,
        old_ref=method.processor_ref,
        new_ref=new_token_for(account.id, method.method_id),
        is_default=account.default_method_id == method.method_id,
        collection_path=account.collection_path,
        skip_reason=_skip_reason(account, method),
    )


def _skip_reason(account: Account, method: PaymentMethod) -> str | None:
    if method.vault_path is VaultPath.BILLING_AGREEMENT:
        return "already migrated"
    if account.status is AccountStatus.CLOSED:
        return "account closed"
    if not method.usable:
        return f"method {method.state.value}"
    if any(a.in_flight and a.method_id == method.method_id for a in account.attempts.values()):
        return "a payment with this method is in flight (rerun later)"
    return None


class TokenMigration:
    """Runs the migration over candidate accounts. `record` is the step that records the
    event (commands.methods.migrate_token; a test can make it crash)."""

    def __init__(
        self,
        deps: Deps,
        vault: Revaulter,
        throttle: Throttle,
        ctx: CommandContext,
        record: Record = migrate_token,
    ) -> None:
        self._deps = deps
        self._vault = vault
        self._throttle = throttle
        self._ctx = ctx
        self._record = record

    def plans(self, account_ids: Iterable[UUID]) -> Iterator[tuple[UUID, list[PlannedMethod]]]:
        """Per account, its plan (empty for an unknown account or nothing to look at)."""
        for account_id in account_ids:
            try:
                yield account_id, plan_account(load_account(self._deps.app, account_id))
            except AccountNotFound:
                yield account_id, []

    def run(
        self,
        account_ids: Iterable[UUID],
        *,
        dry_run: bool = False,
        limit: int | None = None,
        progress: Callable[[UUID], None] | None = None,
    ) -> MigrationReport:
        """Dry run: the plan only, nothing asked of Braintree, nothing recorded. `limit`
        caps the methods migrated (or planned) in this run; skipped ones do not count."""
        report = MigrationReport()
        budget = limit
        for account_id, plan in self.plans(account_ids):
            if budget is not None and budget <= 0:
                break
            report.accounts_seen += 1
            for item in plan:
                if item.to_migrate and budget is not None and budget <= 0:
                    break
                result = self._one(item, dry_run)
                report.results.append(result)
                if item.to_migrate and budget is not None:
                    budget -= 1
                if result.stops_batch:
                    report.stopped = STOPPED
                    return report
            if progress is not None:
                progress(account_id)
        return report

    def _one(self, item: PlannedMethod, dry_run: bool) -> MethodResult:
        if not item.to_migrate:
            return MethodResult(item, Outcome.SKIPPED, item.skip_reason, item.collection_path)
        if dry_run:
            return MethodResult(item, Outcome.WOULD_MIGRATE, item.action, item.collection_path)
        self._throttle.wait()
        try:
            return self._migrate(item)
        except ProcessorUnavailable:
            return MethodResult(item, Outcome.FAILED, STOPPED)
        except DomainError as refused:  # revoked, unknown token, refused, account changed
            return MethodResult(item, Outcome.FAILED, f"{refused.code}: {refused.detail}")

    def _migrate(self, item: PlannedMethod) -> MethodResult:
        vaulted = self._vault.revault_as_billing_agreement(
            item.customer_id, item.old_ref, new_ref=item.new_ref
        )
        if vaulted.billing_agreement_id is None:  # the port promises one; never record less
            return MethodResult(item, Outcome.FAILED, "no billing agreement came back")
        cmd = MigrateToken(
            account_id=item.account_id,
            method_id=item.method_id,
            new_token=vaulted.method_ref,
            billing_agreement_id=vaulted.billing_agreement_id,
        )
        ctx = self._ctx.model_copy(
            update={"command_id": command_id_for(item.account_id, item.method_id)}
        )
        self._record(self._deps, cmd, ctx)
        after = load_account(self._deps.app, item.account_id).collection_path
        return MethodResult(item, Outcome.MIGRATED, None, after, vaulted.billing_agreement_id)
