"""Vaulting payment methods at the processors, and keeping them there in step with the
ledger: cards through a Stripe SetupIntent, PayPal through a Braintree nonce; the default
method and removals follow at the processor.

Order of writes: the processor first, the ledger second, so the ledger never records a
method the processor does not hold. Each processor step is safe to repeat (attach, vault
with a token derived from the command id, detach), so a command repeated after a crash
between the two finishes the job without vaulting twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import structlog

from commands import methods
from commands.base import (
    CommandResult,
    Deps,
    follow_up,
    load_account,
    load_act_save,
    meta_of,
    new_id_for,
    replay_of,
)
from commands.customers import sync_customer
from commands.errors import ProcessorNotConfigured
from commands.models import (
    AddCard,
    AddPayPal,
    AddVaultedCard,
    CommandContext,
    RemoveMethod,
    SetDefaultMethod,
    StartCardSetup,
    SyncProviderCustomer,
    VaultPayPal,
)
from commands.paypal_ports import PayPalMethodNotFound, PayPalVault, PayPalVaultRefused
from commands.ports import (
    CardSetup,
    CardVault,
    ProcessorRefused,
    ProcessorUnavailable,
    ProviderCustomerNotFound,
)
from ledger.account import Account
from ledger.methods import MethodKind, MethodState, PaymentMethod
from ledger.payments import Processor

log = structlog.get_logger("vaulting")


@dataclass(frozen=True)
class StartedCardSetup:
    customer_id: str
    setup: CardSetup


def start_card_setup(deps: Deps, cmd: StartCardSetup, ctx: CommandContext) -> StartedCardSetup:
    """A SetupIntent for the account's Stripe customer (created first if needed); the
    client secret goes to the browser, which confirms the card with Stripe.js."""
    cards = card_vault(deps)
    customer_id = customer_of(deps, cmd.account_id, Processor.STRIPE, ctx)
    setup = cards.start_card_setup(customer_id, new_id_for(deps, ctx, "card-setup"))
    return StartedCardSetup(customer_id, setup)


def add_vaulted_card(deps: Deps, cmd: AddVaultedCard, ctx: CommandContext) -> CommandResult:
    """Attaches the confirmed card to the customer at Stripe and records it with the
    details Stripe gives (brand, last four, expiry); then the default follows at Stripe."""
    cards = card_vault(deps)
    if (done := _replayed(deps, cmd.account_id, ctx)) is not None:
        return done
    customer_id = customer_of(deps, cmd.account_id, Processor.STRIPE, ctx)
    card = cards.attach_card(customer_id, cmd.payment_method)
    add = AddCard(
        account_id=cmd.account_id,
        processor_ref=card.method_ref,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        make_default=cmd.make_default,
    )
    result = methods.add_card(deps, add, ctx)
    if cmd.make_default:
        _push_default(deps, load_account(deps.app, cmd.account_id))
    return result


def vault_paypal(deps: Deps, cmd: VaultPayPal, ctx: CommandContext) -> CommandResult:
    """Vaults the PayPal nonce for the account's Braintree customer (created first if
    needed) under a token derived from the command id, and records the method with the
    path it was vaulted on: a billing agreement, or the legacy path (no agreement) that
    the token migration later fixes."""
    paypal = paypal_vault(deps)
    if (done := _replayed(deps, cmd.account_id, ctx)) is not None:
        return done
    customer_id = customer_of(deps, cmd.account_id, Processor.BRAINTREE, ctx)
    method_id = new_id_for(deps, ctx, "method")
    vaulted = paypal.vault_nonce(
        customer_id, cmd.nonce, method_ref=method_id, make_default=cmd.make_default
    )
    add = AddPayPal(
        account_id=cmd.account_id,
        token=vaulted.method_ref,
        billing_agreement_id=vaulted.billing_agreement_id,
        payer_email=vaulted.payer_email or load_account(deps.app, cmd.account_id).profile.email,
        legacy_vault=not vaulted.is_billing_agreement,
        make_default=cmd.make_default,
    )
    return methods.add_paypal(deps, add, ctx)


def set_default_method(deps: Deps, cmd: SetDefaultMethod, ctx: CommandContext) -> CommandResult:
    """The ledger's default decides the collection path; the processor's default follows
    (best effort: a processor that is down leaves a default mismatch for reconciliation)."""
    result = load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.set_default_method(cmd.method_id, meta_of(deps, ctx))
    )
    _push_default(deps, load_account(deps.app, cmd.account_id))
    return result


def remove_method(deps: Deps, cmd: RemoveMethod, ctx: CommandContext) -> CommandResult:
    """Removed in the ledger first (the domain refuses while a payment with the method is in
    flight, and a billing run starting one meanwhile makes the save conflict, never a
    method deleted at the processor but kept here), then at the processor. Deleting there
    is idempotent and also done on a repeat of the command; a processor that does not
    answer leaves the method attached there, which reconciliation lists
    (`method_unknown_to_ledger`, repair `detach-method`)."""
    result = load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.remove_method(cmd.method_id, meta_of(deps, ctx))
    )
    method = load_account(deps.app, cmd.account_id).methods.get(cmd.method_id)
    if method is not None and method.state is MethodState.REMOVED:
        try:
            _remove_at_processor(deps, method)
        except ProcessorUnavailable as down:
            log.warning(
                "method_not_removed_at_processor",
                account_id=str(cmd.account_id),
                method_id=method.method_id,
                error=down.detail,
            )
    return result


def paypal_client_token(deps: Deps, account_id: UUID, ctx: CommandContext) -> str:
    """A client token for the Braintree drop-in, for the account's customer (created first
    if needed), so the PayPal account it approves can be vaulted for that customer."""
    paypal = paypal_vault(deps)
    return paypal.client_token(customer_of(deps, account_id, Processor.BRAINTREE, ctx))


def customer_of(deps: Deps, account_id: UUID, processor: Processor, ctx: CommandContext) -> str:
    """The account's customer at the processor, created (and recorded) when missing, as a
    step of its own (caused by the command, not a repeat of it)."""
    account = load_account(deps.app, account_id)
    linked = account.provider_customers.get(processor.value)
    if linked is not None:
        return linked
    cmd = SyncProviderCustomer(account_id=account.id, processor=processor)
    return sync_customer(deps, cmd, follow_up(ctx)).customer_id


def _replayed(deps: Deps, account_id: UUID, ctx: CommandContext) -> CommandResult | None:
    """The result of this command if the account has already seen it (then the processor
    is not asked again)."""
    return replay_of(deps, load_account(deps.app, account_id), ctx)


def _remove_at_processor(deps: Deps, method: PaymentMethod) -> None:
    if method.kind is MethodKind.CARD and deps.processors.cards is not None:
        deps.processors.cards.detach_card(method.processor_ref)
    elif method.kind is MethodKind.PAYPAL and deps.processors.paypal is not None:
        deps.processors.paypal.delete_method(method.processor_ref)


def _push_default(deps: Deps, account: Account) -> None:
    method = account.methods.get(account.default_method_id or "")
    if method is None:
        return
    try:
        _set_default_at_processor(deps, account, method)
    except (
        ProcessorUnavailable,
        ProcessorRefused,
        ProviderCustomerNotFound,
        PayPalMethodNotFound,
        PayPalVaultRefused,
    ) as failed:
        log.warning(
            "default_not_pushed",
            account_id=str(account.id),
            method_id=method.method_id,
            code=failed.code,
        )


def _set_default_at_processor(deps: Deps, account: Account, method: PaymentMethod) -> None:
    if method.kind is MethodKind.CARD and deps.processors.cards is not None:
        customer_id = account.provider_customers.get(Processor.STRIPE.value)
        if customer_id is not None:
            deps.processors.cards.set_default_card(customer_id, method.processor_ref)
    elif method.kind is MethodKind.PAYPAL and deps.processors.paypal is not None:
        deps.processors.paypal.make_default(method.processor_ref)


def card_vault(deps: Deps) -> CardVault:
    if deps.processors.cards is None:
        raise ProcessorNotConfigured("Stripe is not configured: cards cannot be vaulted")
    return deps.processors.cards


def paypal_vault(deps: Deps) -> PayPalVault:
    if deps.processors.paypal is None:
        raise ProcessorNotConfigured("Braintree is not configured: PayPal cannot be vaulted")
    return deps.processors.paypal
