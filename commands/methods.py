"""Payment-method handlers. The collection path follows from the methods; nothing else to
update when they change."""

from __future__ import annotations

from commands.base import CommandResult, Deps, load_act_save, meta_of, new_id_for
from commands.models import (
    AddCard,
    AddPayPal,
    CommandContext,
    ExpireMethod,
    LinkProviderCustomer,
    MigrateToken,
    RemoveMethod,
    RevokePayPal,
    SetDefaultMethod,
)
from ledger.account import Account
from ledger.methods import VaultPath


def add_card(deps: Deps, cmd: AddCard, ctx: CommandContext) -> CommandResult:
    method_id = new_id_for(deps, ctx, "method")

    def act(account: Account) -> None:
        account.add_card(
            method_id,
            cmd.processor_ref,
            cmd.brand,
            cmd.last4,
            cmd.exp_month,
            cmd.exp_year,
            cmd.make_default,
            meta_of(deps, ctx),
        )

    return load_act_save(deps, cmd.account_id, ctx, act)


def add_paypal(deps: Deps, cmd: AddPayPal, ctx: CommandContext) -> CommandResult:
    method_id = new_id_for(deps, ctx, "method")
    path = VaultPath.LEGACY if cmd.legacy_vault else VaultPath.BILLING_AGREEMENT

    def act(account: Account) -> None:
        account.add_paypal(
            method_id,
            cmd.token,
            cmd.billing_agreement_id,
            str(cmd.payer_email),
            path,
            cmd.make_default,
            meta_of(deps, ctx),
        )

    return load_act_save(deps, cmd.account_id, ctx, act)


def set_default_method(deps: Deps, cmd: SetDefaultMethod, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.set_default_method(cmd.method_id, meta_of(deps, ctx))
    )


def remove_method(deps: Deps, cmd: RemoveMethod, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.remove_method(cmd.method_id, meta_of(deps, ctx))
    )


def expire_method(deps: Deps, cmd: ExpireMethod, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.expire_method(cmd.method_id, meta_of(deps, ctx))
    )


def revoke_paypal(deps: Deps, cmd: RevokePayPal, ctx: CommandContext) -> CommandResult:
    return load_act_save(
        deps, cmd.account_id, ctx, lambda a: a.revoke_method(cmd.method_id, meta_of(deps, ctx))
    )


def migrate_token(deps: Deps, cmd: MigrateToken, ctx: CommandContext) -> CommandResult:
    def act(account: Account) -> None:
        account.migrate_token(
            cmd.method_id, cmd.new_token, cmd.billing_agreement_id, meta_of(deps, ctx)
        )

    return load_act_save(deps, cmd.account_id, ctx, act)


def link_provider_customer(
    deps: Deps, cmd: LinkProviderCustomer, ctx: CommandContext
) -> CommandResult:
    def act(account: Account) -> None:
        account.link_provider_customer(cmd.processor, cmd.customer_id, meta_of(deps, ctx))

    return load_act_save(deps, cmd.account_id, ctx, act)
