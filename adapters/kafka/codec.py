"""Envelope <-> Kafka record. Key = account id (per-account order); headers name the event
so consumers can filter without parsing the body."""

from __future__ import annotations

import json
from typing import Any

import orjson

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


def batch_bodies(message: Any) -> list[Any]:
    """A FastStream batch's bodies, straight from its records, parsed with orjson (the
    default decoder builds a message object per record and parses with json): a body that
    is not JSON stays bytes, for `decode` to refuse and the projector to park."""
    return [_parsed(record.value) for record in message.raw_message]


def _parsed(value: bytes | None) -> Any:
    try:
        return orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return value or b""
