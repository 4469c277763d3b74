"""The data every stage uses: account-opening commands and the events they record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from commands.application import LedgerApplication
from commands.models import CommandContext, OpenAccount
from ledger.account import Account
from ledger.meta import Actor, ActorKind, EventMeta, Surface
from ledger.profile import BillingProfile

_COUNTRIES = (("DE", "EUR"), ("US", "USD"), ("GB", "GBP"), ("FR", "EUR"), ("JP", "JPY"))
ACTOR_ID = "bench-loader"


def profile(i: int) -> BillingProfile:
    country, currency = _COUNTRIES[i % len(_COUNTRIES)]
    return BillingProfile(
        f"Bench Customer {i:07d}", f"customer-{i:07d}@example.com", country, currency
    )


def command(i: int) -> OpenAccount:
    p = profile(i)
    return OpenAccount(name=p.name, email=p.email, country=p.country, currency=p.currency)


def context() -> CommandContext:
    """What the internal API would pass: a service actor and a fresh correlation id."""
    return CommandContext(actor_id=ACTOR_ID, actor_kind=ActorKind.SERVICE, surface=Surface.IAPI)


def meta() -> EventMeta:
    return EventMeta(
        actor=Actor(id=ACTOR_ID, kind=ActorKind.SERVICE),
        surface=Surface.IAPI,
        correlation_id=uuid4(),
        occurred_at=datetime.now(UTC),
    )


def new_accounts(first: int, count: int) -> list[Account]:
    return [Account.open(uuid4(), profile(i), meta()) for i in range(first, first + count)]


def stored_rows(app: LedgerApplication, count: int) -> Iterator[tuple[UUID, int, str, bytes]]:
    """Rows exactly as the application would store them: (id, version, topic, state)."""
    for account in new_accounts(0, count):
        for event in account.collect_events():
            stored: Any = app.mapper.to_stored_event(event)
            yield stored.originator_id, stored.originator_version, stored.topic, stored.state
