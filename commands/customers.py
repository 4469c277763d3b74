"""Customer sync: the account's customer at each processor follows its billing identity
(name, email). The ledger records what it wrote (`ProviderCustomerSynced`); a customer that
no longer holds those values was edited at the processor, and that drift is shown
(`ProviderCustomerDrifted`, reconciliation), never silently overwritten either way."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import structlog

from commands.base import CommandResult, Deps, acting, follow_up, load_account, meta_of
from commands.errors import ProcessorNotConfigured, ProviderCustomerDrifted
from commands.models import CommandContext, SyncProviderCustomer
from commands.paypal_ports import PayPalCustomerNotFound, PayPalVault
from commands.ports import (
    CustomerDirectory,
    ProcessorUnavailable,
    ProviderCustomer,
    ProviderCustomerNotFound,
)
from ledger.account import Account
from ledger.errors import NothingToChange, ReasonRequired
from ledger.meta import EventMeta
from ledger.payments import Processor

log = structlog.get_logger("customers")
SyncAction = Literal["created", "updated", "in_sync"]
SYNCED_FIELDS = ("name", "email")


class PayPalCustomers:
    """The Braintree vault seen as a CustomerDirectory (its customer id is the account id)."""

    def __init__(self, vault: PayPalVault) -> None:
        self._vault = vault

    def create_customer(self, account_id: str, name: str, email: str) -> str:
        return self._vault.create_customer(account_id, name, email)

    def update_customer(
        self, customer_id: str, *, name: str | None = None, email: str | None = None
    ) -> None:
        try:
            self._vault.update_customer(customer_id, name=name, email=email)
        except PayPalCustomerNotFound as missing:
            raise ProviderCustomerNotFound(missing.detail) from None

    def get_customer(self, customer_id: str) -> ProviderCustomer | None:
        found = self._vault.find_customer(customer_id)
        if found is None:
            return None
        return ProviderCustomer(
            found.customer_id, found.customer_id, found.name, found.email, found.default_method_ref
        )


def directory_for(deps: Deps, processor: Processor) -> CustomerDirectory:
    if processor is Processor.STRIPE and deps.processors.stripe_customers is not None:
        return deps.processors.stripe_customers
    if processor is Processor.BRAINTREE and deps.processors.paypal is not None:
        return PayPalCustomers(deps.processors.paypal)
    raise ProcessorNotConfigured(f"{processor.value} is not configured")


@dataclass(frozen=True)
class SyncOutcome:
    customer_id: str
    action: SyncAction
    result: CommandResult


def sync_customer(deps: Deps, cmd: SyncProviderCustomer, ctx: CommandContext) -> SyncOutcome:
    """Creates or updates the customer at the processor, then records the link and the
    values written. Safe to repeat: creating finds the account's customer again."""
    if cmd.force and not ctx.reason:
        raise ReasonRequired("overwriting a customer edited at the processor needs a reason")
    customer_id, action, wanted = push_customer(deps, cmd)
    _, result = acting(deps, cmd.account_id, ctx, _recorder(deps, ctx, cmd, customer_id, wanted))
    return SyncOutcome(customer_id, action, result)


def push_customer(deps: Deps, cmd: SyncProviderCustomer) -> tuple[str, SyncAction, dict[str, str]]:
    """The processor's side of sync_customer alone: (customer id, action, values written).
    The caller records them with `record_sync`, in a save of its own."""
    directory = directory_for(deps, cmd.processor)
    account = load_account(deps.app, cmd.account_id)
    wanted = {"name": account.profile.name, "email": account.profile.email}
    customer_id, action = _push(directory, account, cmd, wanted)
    return customer_id, action, wanted


def _push(
    directory: CustomerDirectory,
    account: Account,
    cmd: SyncProviderCustomer,
    wanted: dict[str, str],
) -> tuple[str, SyncAction]:
    linked = account.provider_customers.get(cmd.processor.value)
    if linked is None:
        customer_id = directory.create_customer(str(account.id), wanted["name"], wanted["email"])
        remote = directory.get_customer(customer_id)
        if remote is None or _fields(remote) != wanted:
            directory.update_customer(customer_id, **wanted)
        return customer_id, "created"
    remote = directory.get_customer(linked)
    if remote is None:
        raise ProviderCustomerNotFound(f"{cmd.processor.value} has no customer {linked}")
    if _fields(remote) == wanted:
        return linked, "in_sync"
    if not cmd.force:
        _refuse_if_drifted(account, cmd.processor, remote)
    directory.update_customer(linked, **wanted)
    return linked, "updated"


def _refuse_if_drifted(account: Account, processor: Processor, remote: ProviderCustomer) -> None:
    """The processor must still hold what the ledger last wrote there; otherwise somebody
    edited it at the processor (or it was linked by hand and never written by the ledger)."""
    last = account.provider_synced.get(processor.value)
    fields = drifted_fields(last, remote)
    if fields:
        raise ProviderCustomerDrifted(
            f"{processor.value} customer {remote.customer_id} was changed at the processor: "
            + ", ".join(fields),
            fields,
        )


def drifted_fields(last: dict[str, str] | None, remote: ProviderCustomer) -> tuple[str, ...]:
    """The fields the processor changed since the ledger last wrote them (all of them when
    the ledger never wrote this customer)."""
    if last is None or last.get("customer_id") != remote.customer_id:
        return SYNCED_FIELDS
    now = _fields(remote)
    return tuple(f for f in SYNCED_FIELDS if now[f] != last.get(f))


def _fields(remote: ProviderCustomer) -> dict[str, str]:
    return {"name": remote.name or "", "email": remote.email or ""}


def _recorder(
    deps: Deps,
    ctx: CommandContext,
    cmd: SyncProviderCustomer,
    customer_id: str,
    wanted: dict[str, str],
) -> Callable[[Account], None]:
    def act(account: Account) -> None:
        record_sync(account, cmd.processor, customer_id, wanted, meta_of(deps, ctx))

    return act


def record_sync(
    account: Account,
    processor: Processor,
    customer_id: str,
    written: dict[str, str],
    meta: EventMeta,
) -> None:
    """The link (if new) and the values the processor holds as the ledger wrote them, on
    the loaded account (not saved)."""
    if account.provider_customers.get(processor.value) != customer_id:
        account.link_provider_customer(processor, customer_id, meta)
    with suppress(NothingToChange):  # already recorded: nothing new was written
        account.record_customer_sync(
            processor, customer_id, written["name"], written["email"], meta
        )


def sync_configured(deps: Deps, account_id: UUID, ctx: CommandContext) -> dict[str, str]:
    """After an account is opened or its profile edited: brings each configured processor's
    customer in step (Stripe always; Braintree once the account has a customer there). A
    processor that is down or a drifted customer does not fail the caller's write: the
    outcome says so and reconciliation lists it until it is repaired."""
    outcome: dict[str, str] = {}
    account = load_account(deps.app, account_id)
    for processor in _processors_to_sync(deps, account):
        cmd = SyncProviderCustomer(account_id=account_id, processor=processor)
        try:
            outcome[processor.value] = sync_customer(deps, cmd, follow_up(ctx)).action
        except ProcessorUnavailable as down:
            log.warning("customer_sync.pending", account_id=str(account_id), error=down.detail)
            outcome[processor.value] = "pending"
        except (ProviderCustomerDrifted, ProviderCustomerNotFound) as refused:
            log.warning("customer_sync.refused", account_id=str(account_id), code=refused.code)
            outcome[processor.value] = refused.code
    return outcome


def _processors_to_sync(deps: Deps, account: Account) -> list[Processor]:
    wanted = []
    if deps.processors.stripe_customers is not None:
        wanted.append(Processor.STRIPE)
    if deps.processors.paypal is not None and Processor.BRAINTREE.value in (
        account.provider_customers
    ):
        wanted.append(Processor.BRAINTREE)
    return wanted
