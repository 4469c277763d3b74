"""Small builders shared by the tests."""

from __future__ import annotations

from uuid import UUID, uuid4

from adapters.field_cipher import AesGcmFields
from commands.application import LedgerApplication
from commands.base import Deps
from commands.models import CommandContext, OpenAccount
from ledger.meta import ActorKind, Surface
from tests.fakes.clock import FixedClock
from tests.fakes.data_keys import InMemoryDataKeys
from tests.fakes.gateway import FakeGateway
from tests.fakes.positions import StorePositions


def in_memory_deps(
    clock: FixedClock | None = None,
    gateway: FakeGateway | None = None,
    cached_aggregates: int = 0,
) -> Deps:
    """`cached_aggregates` > 0 keeps that many accounts in the repository's cache (loads
    fast-forward a cached copy instead of decoding a snapshot and the events after it)."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if cached_aggregates:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(cached_aggregates)
    app = LedgerApplication(env=env, personal=AesGcmFields(InMemoryDataKeys()))
    return Deps(
        app=app,
        clock=clock or FixedClock(),
        new_id=uuid4,
        positions=StorePositions(app),
        gateway=gateway or FakeGateway(),
    )


def service_ctx(command_id: UUID | None = None) -> CommandContext:
    return CommandContext(
        actor_id="svc-checkout",
        actor_kind=ActorKind.SERVICE,
        surface=Surface.IAPI,
        command_id=command_id,
    )


def support_ctx(
    reason: str | None = "customer asked by phone", command_id: UUID | None = None
) -> CommandContext:
    return CommandContext(
        actor_id="agent-7",
        actor_kind=ActorKind.SUPPORT,
        surface=Surface.NINJAPANEL,
        reason=reason,
        command_id=command_id,
    )


def open_cmd(name: str = "Ada Lovelace", currency: str = "GBP") -> OpenAccount:
    return OpenAccount(name=name, email="ada@example.com", country="GB", currency=currency)


def customer_ctx(command_id: UUID | None = None) -> CommandContext:
    return CommandContext(
        actor_id="cust-1",
        actor_kind=ActorKind.CUSTOMER,
        surface=Surface.DASHBOARD,
        command_id=command_id,
    )


def system_ctx() -> CommandContext:
    return CommandContext(
        actor_id="billing-run", actor_kind=ActorKind.SYSTEM, surface=Surface.SYSTEM
    )
