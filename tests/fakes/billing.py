"""Billing scenario steps shared by the unit (in-memory) and integration (PostgreSQL) tests."""

from __future__ import annotations

from uuid import UUID

from commands import accounts, billing, methods
from commands.base import Deps
from commands.models import AddCard, AddPayPal, Subscribe
from tests.fakes.builders import customer_ctx, open_cmd

CARD = "pm_card_visa"
PAYPAL = "bt_paypal_token"
PLAN = "pro-monthly-usd"


def usd_account(deps: Deps, card: str | None = CARD) -> UUID:
    """A USD account, with a default card unless `card` is None."""
    account_id = accounts.open_account(deps, open_cmd(currency="USD"), customer_ctx()).account_id
    if card:
        cmd = AddCard(
            account_id=account_id,
            processor_ref=card,
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2030,
        )
        methods.add_card(deps, cmd, customer_ctx())
    return account_id


def add_paypal(deps: Deps, account_id: UUID) -> None:
    """A PayPal billing agreement, made the default."""
    cmd = AddPayPal(
        account_id=account_id,
        token=PAYPAL,
        billing_agreement_id="B-123",
        payer_email="payer@example.com",
    )
    methods.add_paypal(deps, cmd, customer_ctx())


def subscribe(deps: Deps, account_id: UUID, on_session: bool = True) -> billing.BillingResult:
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=on_session)
    return billing.subscribe(deps, cmd, customer_ctx())
