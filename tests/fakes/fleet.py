"""A fleet of accounts in every state the billing run meets (cards that pay, decline softly
or hard, wait for the customer, time out; backup cards, PayPal, credits, no method at
all), built the same way in any store: ids come from `new_id` and every command from one
context, so two stores built with `fleet_deps` hold the same events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid5

from commands import accounts, billing, credits, methods
from commands.base import Deps
from commands.models import AddCard, AddPayPal, CommandContext, GrantCredit, Subscribe
from ledger.meta import ActorKind, Surface
from tests.fakes.builders import open_cmd
from tests.fakes.gateway import FakeGateway

KINDS = 9
_NS = UUID("5b7e0c61-33c4-4d8e-9a1f-2f6d0b8c4e17")
CTX = CommandContext(
    actor_id="agent-7",
    actor_kind=ActorKind.SUPPORT,
    surface=Surface.NINJAPANEL,
    reason="fleet",
    correlation_id=uuid5(_NS, "fleet"),
)


def counter_ids(name: str) -> Iterator[UUID]:
    n = 0
    while True:
        n += 1
        yield uuid5(_NS, f"{name}:{n}")


def fleet_deps(deps: Deps) -> Deps:
    """`deps` with ids that repeat from store to store."""
    ids = counter_ids("fleet")
    return replace(deps, new_id=lambda: next(ids))


def build_fleet(deps: Deps, gateway: FakeGateway, size: int) -> list[UUID]:
    """`size` accounts subscribed off-session, account `i` of kind `i % KINDS`."""
    return [_account(deps, gateway, i) for i in range(size)]


def _account(deps: Deps, gateway: FakeGateway, i: int) -> UUID:
    kind = i % KINDS
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), CTX).account_id
    card = f"pm_card_{i}"
    if kind != 7:  # kind 7 has no method at all
        _card(deps, account_id, card)
    if kind == 1:
        gateway.always_decline(card, "insufficient_funds")
    elif kind == 2:
        gateway.always_decline(card, "stolen_card")
        _card(deps, account_id, f"pm_backup_{i}", default=False)
    elif kind == 4:
        gateway.decline_next(card, "insufficient_funds", "insufficient_funds")
    elif kind == 5:
        grant = GrantCredit(
            account_id=account_id,
            amount=500,
            currency="USD",
            expires_at=deps.clock.now() + timedelta(days=40),
        )
        credits.grant_credit(deps, grant, CTX)
    elif kind == 6:
        add = AddPayPal(
            account_id=account_id,
            token=f"bt_paypal_{i}",
            billing_agreement_id=f"B-{i}",
            payer_email="payer@example.com",
        )
        methods.add_paypal(deps, add, CTX)
    if kind != 7 and (i % 2 == 0 or kind in (1, 2)):
        subscribe = Subscribe(account_id=account_id, plan_id="pro-monthly-usd", on_session=False)
        billing.subscribe(deps, subscribe, CTX)
    if kind == 8:  # the renewal's charge times out
        gateway.go_down_next(card)
    elif kind == 3:  # the renewal's charge waits for the customer
        gateway.require_action_next(card)
    return account_id


def _card(deps: Deps, account_id: UUID, ref: str, default: bool = True) -> None:
    cmd = AddCard(
        account_id=account_id,
        processor_ref=ref,
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
        make_default=default,
    )
    methods.add_card(deps, cmd, CTX)
