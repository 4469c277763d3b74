"""The JSON Schemas of `billing.events`: one for the envelope (`billing.event/1`), and one per
event type and version for the whole message (the envelope with that event's `data`),
generated from the event classes of the registry (ledger/account/registry.py) and, for
versions no longer published, from their data kept in `adapters.contract.history`.

Each document stands alone (its shared shapes are in its own `$defs`), so a consumer in any
language validates a message with one file: `<event_type>.v<schema_version>.json`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.contract.history import EARLIER_VERSIONS
from adapters.contract.sealed import seal
from adapters.contract.types import Schema, TypeSchemas
from ledger.account.registry import PUBLIC_EVENTS
from ledger.envelope import ENVELOPE_SCHEMA, NOT_DATA, EventEnvelope
from ledger.meta import EventMeta
from ledger.personal import PERSONAL_FIELDS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_KEY = "envelope.v1"
_COUNTS = ("schema_version", "stream_version", "position")  # 1, 2, ...


@dataclass(frozen=True)
class MessageVersion:
    """One version of one event type as published: its data is the dataclass `data` without
    the fields in `leave_out` (an event class's store fields and meta), with its personal
    fields (`sealed`: dotted paths) published sealed or erased."""

    name: str
    version: int
    data: type[Any]
    leave_out: frozenset[str]
    current: bool
    sealed: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"


def message_versions() -> list[MessageVersion]:
    """Every version of every event type, ordered by name then version."""
    current = [
        MessageVersion(
            e.name,
            e.version,
            e.event_class,
            NOT_DATA,
            True,
            PERSONAL_FIELDS.get(e.event_class.TOPIC, ()),
        )
        for e in PUBLIC_EVENTS
    ]
    earlier = [
        MessageVersion(e.name, e.version, e.data, frozenset(), False) for e in EARLIER_VERSIONS
    ]
    return sorted(current + earlier, key=lambda m: (m.name, m.version))


def envelope_schema() -> Schema:
    """Any message of the topic: the envelope, with `data` an object of any shape."""
    types = _types()
    body = _envelope(
        types, {"type": "string"}, {"type": "integer", "minimum": 1}, {"type": "object"}
    )
    return _document(
        f"{ENVELOPE_SCHEMA} envelope",
        "Every message on billing.events. `data` has the shape of the schema named by"
        " `event_type` and `schema_version`: `<event_type>.v<schema_version>.json`.",
        body,
        types,
    )


def message_schema(message: MessageVersion) -> Schema:
    types = _types()
    data = seal(types, types.object_of(message.data, message.leave_out), message.sealed)
    body = _envelope(types, {"const": message.name}, {"const": message.version}, data)
    status = (
        "published today"
        if message.current
        else "no longer published (stored events are upcast to the current version before"
        " publication); messages published when it was current stay on the topic"
    )
    return _document(
        f"{message.name} v{message.version}",
        f"A `{message.name}` event, schema version {message.version}: {status}."
        f' Meaning and rules: docs/events.md, "{message.name}".',
        body,
        types,
    )


def all_schemas() -> dict[str, Schema]:
    """Key (file name without `.json`) -> schema: the envelope's and every message's."""
    schemas = {ENVELOPE_KEY: envelope_schema()}
    schemas.update({m.key: message_schema(m) for m in message_versions()})
    return schemas


def _types() -> TypeSchemas:
    return TypeSchemas(omitted_when_null={EventMeta: ("fingerprint",)})


def _envelope(types: TypeSchemas, name: Schema, version: Schema, data: Schema) -> Schema:
    head = types.object_of(EventEnvelope)
    properties = {"schema": {"const": ENVELOPE_SCHEMA}, **head["properties"]}
    for count in _COUNTS:
        properties[count] = {**properties[count], "minimum": 1}
    properties.update(event_type=name, schema_version=version, data=data, meta=types.of(EventMeta))
    return {"type": "object", "properties": properties, "required": list(properties)}


def _document(title: str, description: str, body: Schema, types: TypeSchemas) -> Schema:
    document = {"$schema": DIALECT, "title": title, "description": description, **body}
    if types.defs:
        document["$defs"] = dict(sorted(types.defs.items()))
    return document
