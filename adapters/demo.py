"""Demo data: a few accounts, opened with fixed command ids so seeding twice adds nothing."""

from __future__ import annotations

from uuid import UUID, uuid5

from adapters.bootstrap import Container
from commands import accounts
from commands.base import CommandResult
from commands.models import CommandContext, OpenAccount
from ledger.meta import ActorKind, Surface

_DEMO_NAMESPACE = UUID("8a4a2a8e-74a5-4bd8-9a43-5a2d8f0e9c10")
DEMO_ACCOUNTS = (
    ("Ada Lovelace", "ada@example.com", "GB", "GBP"),
    ("Grace Hopper", "grace@example.com", "US", "USD"),
    ("Katherine Johnson", "katherine@example.com", "US", "USD"),
    ("Hedy Lamarr", "hedy@example.at", "AT", "EUR"),
    ("Tu Youyou", "tu@example.cn", "CN", "CNY"),
)


def demo_command_id(index: int) -> UUID:
    return uuid5(_DEMO_NAMESPACE, f"demo-account-{index}")


def first_demo_account() -> UUID:
    return accounts.account_id_for_command(demo_command_id(0))


def seed(container: Container) -> list[CommandResult]:
    results = []
    for i, (name, email, country, currency) in enumerate(DEMO_ACCOUNTS):
        ctx = CommandContext(
            actor_id="demo-seeder",
            actor_kind=ActorKind.SYSTEM,
            surface=Surface.CLI,
            command_id=demo_command_id(i),
        )
        cmd = OpenAccount(name=name, email=email, country=country, currency=currency)
        results.append(accounts.open_account(container.deps, cmd, ctx))
    return results
