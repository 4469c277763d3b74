"""Who did it, through which surface, why, and as part of which request: carried by every event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from ledger.errors import ReasonRequired
from ledger.values import Immutable


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    SERVICE = "service"
    SUPPORT = "support"
    SYSTEM = "system"


class Surface(StrEnum):
    DASHBOARD = "dashboard"
    IAPI = "iapi"
    NINJAPANEL = "ninjapanel"
    CLI = "cli"
    WEBHOOK = "webhook"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor(Immutable):
    id: str
    kind: ActorKind


@dataclass(frozen=True)
class EventMeta(Immutable):
    """The audit context of one event.

    A support action without a reason is refused here, so no event can ever be recorded
    for one.
    """

    actor: Actor
    surface: Surface
    correlation_id: UUID
    occurred_at: datetime
    reason: str | None = None
    causation_id: UUID | None = None
    command_id: UUID | None = None
    # What the command asked (a hash), kept with its id so a reuse of the id for another
    # request is refused. None on events recorded before fingerprints existed.
    fingerprint: str | None = None

    def __post_init__(self) -> None:
        if self.actor.kind is ActorKind.SUPPORT and not (self.reason or "").strip():
            raise ReasonRequired()
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")

    def as_dict(self) -> dict[str, Any]:
        data = {
            "actor": {"id": self.actor.id, "kind": self.actor.kind.value},
            "surface": self.surface.value,
            "reason": self.reason,
            "correlation_id": str(self.correlation_id),
            "causation_id": str(self.causation_id) if self.causation_id else None,
            "command_id": str(self.command_id) if self.command_id else None,
            "occurred_at": self.occurred_at.isoformat(),
        }
        if self.fingerprint is not None:
            data["fingerprint"] = self.fingerprint
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventMeta:
        return cls(
            actor=Actor(id=data["actor"]["id"], kind=ActorKind(data["actor"]["kind"])),
            surface=Surface(data["surface"]),
            reason=data.get("reason"),
            correlation_id=UUID(data["correlation_id"]),
            causation_id=_uuid_or_none(data.get("causation_id")),
            command_id=_uuid_or_none(data.get("command_id")),
            fingerprint=data.get("fingerprint"),
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
        )


def _uuid_or_none(value: str | None) -> UUID | None:
    return UUID(value) if value else None
