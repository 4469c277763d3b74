"""The public, versioned shape of an event as published to Kafka and fed to projections.

Both sources of a projection (the Kafka topic and a direct read of the event store) hand
the projection the same envelopes, built here from the current version of a domain event.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID, uuid5

from ledger.account.registry import public_name
from ledger.meta import EventMeta

ENVELOPE_SCHEMA = "billing.event/1"
_EVENT_ID_NAMESPACE = UUID("5b0f7c2e-1d7a-4c1e-9a57-6f6b5e0f2b11")
# The store's own fields of an event: in the envelope's head (account, stream version), never
# in `data`; with `meta`, everything else an event holds is its data.
STORE_FIELDS = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})
NOT_DATA = STORE_FIELDS | {"meta"}


@dataclass(frozen=True)
class EventEnvelope:
    event_id: UUID
    event_type: str
    schema_version: int
    account_id: UUID
    stream_version: int
    position: int
    meta: dict[str, Any]
    data: dict[str, Any]

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.meta["occurred_at"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": ENVELOPE_SCHEMA,
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "account_id": str(self.account_id),
            "stream_version": self.stream_version,
            "position": self.position,
            "meta": self.meta,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EventEnvelope:
        if raw.get("schema") != ENVELOPE_SCHEMA:
            raise ValueError(f"unsupported envelope schema: {raw.get('schema')!r}")
        return cls(
            event_id=UUID(raw["event_id"]),
            event_type=raw["event_type"],
            schema_version=int(raw["schema_version"]),
            account_id=UUID(raw["account_id"]),
            stream_version=int(raw["stream_version"]),
            position=int(raw["position"]),
            meta=raw["meta"],
            data=raw["data"],
        )


def event_id_for(stream_id: UUID, version: int) -> UUID:
    """Deterministic, so every replay and republication names an event the same way."""
    return uuid5(_EVENT_ID_NAMESPACE, f"{stream_id}:{version}")


def event_type_of(event: object) -> str:
    """The event's public name, from the registry (never from where its class is defined)."""
    return public_name(type(event))


def envelope_of(event: Any, position: int) -> EventEnvelope:
    fields = {k: v for k, v in event.__dict__.items() if k not in STORE_FIELDS}
    meta = fields.pop("meta")
    if not isinstance(meta, EventMeta):
        raise TypeError(f"{event_type_of(event)} carries no EventMeta")
    return EventEnvelope(
        event_id=event_id_for(event.originator_id, event.originator_version),
        event_type=event_type_of(event),
        schema_version=int(getattr(type(event), "class_version", 1)),
        account_id=event.originator_id,
        stream_version=event.originator_version,
        position=position,
        meta=meta.as_dict(),
        data={k: plain_value(v) for k, v in fields.items()},
    )


_SCALARS = (str, int, float, bool, type(None))


def plain_value(value: Any) -> Any:
    """A value of an event as the envelope carries it: JSON's types (and Decimal)."""
    # By exact type first: most values are plain already (a StrEnum is a str, but not exactly).
    if type(value) in _SCALARS:
        return value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Field by field, as dataclasses.asdict would, without its deep copy of every leaf.
        return {name: plain_value(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    return value


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))
