"""Envelope <-> Kafka record. Key = account id (per-account order); headers name the event
so consumers can filter without parsing the body."""

from __future__ import annotations

import json
from typing import Any

from ledger.envelope import EventEnvelope

CONTENT_TYPE = "application/json"


def key_of(env: EventEnvelope) -> bytes:
    return str(env.account_id).encode()


def value_of(env: EventEnvelope) -> bytes:
    return json.dumps(env.to_dict(), separators=(",", ":")).encode()


def headers_of(env: EventEnvelope) -> list[tuple[str, bytes]]:
    return [
        ("content-type", CONTENT_TYPE.encode()),
        ("event-type", env.event_type.encode()),
        ("schema-version", str(env.schema_version).encode()),
        ("event-id", str(env.event_id).encode()),
        ("position", str(env.position).encode()),
    ]


def decode(body: bytes | dict[str, Any]) -> EventEnvelope:
    raw = json.loads(body) if isinstance(body, bytes | str) else body
    return EventEnvelope.from_dict(raw)
