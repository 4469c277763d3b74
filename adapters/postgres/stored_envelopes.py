"""Envelopes straight from stored events, without building each domain event first.

Every reader of the store as envelopes (the relay, the store feed, rebuilds, recomputes,
history pages) used to run `envelope_of(mapper.to_domain_event(stored))`: revive every value
to its type (UUIDs, datetimes, enums, value objects, the meta) only for `envelope_of` to turn
each one back into JSON's types. `PlainEnvelopes` parses the stored JSON with orjson and
turns each transcoded value (`{"_type_": ..., "_data_": ...}`) into its plain form at once,
opening sealed personal fields as the personal-data mapper does.

It gives exactly the envelope the typed path gives (tests/unit/test_plain_envelopes.py
compares the two on every event type, sealed and clear, erased and not) and leaves to the
typed path whatever it does not read the same way: a state stored by an older class version
(upcasters work on typed state), a transcoding it does not know, a value object whose stored
fields are not its class's fields today, JSON that orjson refuses. The typed path then reads
the event, or raises as it always did, so a bad event is parked exactly as before.

What it does not repeat is a value object's own checks (`__post_init__`): it renders what is
stored. Every stored value passed them when its event was made, and a check made stricter
later is what a class version and an upcaster are for."""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic

from commands.application import EventMetaAsDict
from commands.personal import SEALED, PersonalDataMapper, is_sealed
from commands.transcodings import DataclassAsDict, alternatives
from ledger.account.registry import public_name
from ledger.envelope import STORE_FIELDS, EventEnvelope, envelope_of, event_id_for, plain_value
from ledger.meta import EventMeta
from ledger.personal import PERSONAL_FIELDS, erased_value

Plainer = Callable[[Any], Any]
_SCALARS = frozenset({str, int, float, bool, type(None)})


class NotPlain(Exception):
    """This stored event is read by the typed path instead."""


@dataclass(frozen=True)
class _Topic:
    event_type: str
    class_version: int
    personal: tuple[str, ...]


class PlainEnvelopes:
    def __init__(self, mapper: Mapper[UUID]) -> None:
        self._mapper = mapper
        transcoder = mapper.transcoder
        names = transcoder.names if isinstance(transcoder, JSONTranscoder) else {}
        self._plainers: dict[str, Plainer] = {n: self._plainer(t) for n, t in names.items()}
        self._opens = isinstance(mapper, PersonalDataMapper)
        self._last_meta: tuple[dict[str, Any] | None, dict[str, Any]] = (None, {})

    def envelope(self, stored: StoredEvent, position: int) -> EventEnvelope:
        try:
            return self.plain_envelope(stored, position)
        except Exception:  # anything the plain reading cannot vouch for: the typed path
            return envelope_of(self._mapper.to_domain_event(stored), position)

    def plain_envelope(self, stored: StoredEvent, position: int) -> EventEnvelope:
        """The envelope without the domain event; raises when the typed path must read it."""
        if type(stored.originator_id) is not UUID:
            raise NotPlain("originator_id")
        topic = _topic(stored.topic)
        state = orjson.loads(self._bytes(stored))
        if type(state) is not dict or state.pop("class_version", 1) != topic.class_version:
            raise NotPlain(stored.topic)
        meta = state.pop("meta")
        if type(meta) is not dict or meta.get("_type_") != EventMetaAsDict.name or len(meta) != 2:
            raise NotPlain("meta")
        plain = self._plain
        data = {k: plain(v) for k, v in state.items() if k not in STORE_FIELDS}
        if topic.personal and self._opens:
            self._open(data, stored.originator_id, topic.personal)
        return EventEnvelope(
            event_id=event_id_for(stored.originator_id, stored.originator_version),
            event_type=topic.event_type,
            schema_version=topic.class_version,
            account_id=stored.originator_id,
            stream_version=stored.originator_version,
            position=position,
            meta=self._meta(meta["_data_"]),
            data=data,
        )

    def _meta(self, stored: dict[str, Any]) -> dict[str, Any]:
        """`EventMeta.from_dict(stored).as_dict()`; the events of one command share their
        meta, so the last one read is remembered (and handed out as a copy)."""
        last = self._last_meta  # one read: another thread may replace it meanwhile
        if stored != last[0]:
            last = self._last_meta = (stored, EventMeta.from_dict(stored).as_dict())
        meta = last[1]
        return {**meta, "actor": dict(meta["actor"])}

    def _bytes(self, stored: StoredEvent) -> bytes:
        state = stored.state
        if self._mapper.cipher:
            state = self._mapper.cipher.decrypt(state)
        if self._mapper.compressor:
            state = self._mapper.compressor.decompress(state)
        return state

    def _plain(self, value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:
            return value
        if kind is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._plainers.get(value["_type_"], _not_plain)(value["_data_"])
            return {k: self._plain(v) for k, v in value.items()}
        if kind is list:
            return [self._plain(v) for v in value]
        return value

    def _plainer(self, transcoding: Transcoding) -> Plainer:
        if isinstance(transcoding, UUIDAsHex):
            return lambda data: str(UUID(data))
        if isinstance(transcoding, DatetimeAsISO):
            return lambda data: datetime.fromisoformat(data).isoformat()
        if isinstance(transcoding, DecimalAsStr):
            return Decimal
        if isinstance(transcoding, DataclassAsDict):
            return self._dataclass_plainer(transcoding)
        return _not_plain  # the meta inside a value, or a transcoding this does not know

    def _dataclass_plainer(self, transcoding: DataclassAsDict) -> Plainer:
        names = tuple(f.name for f in fields(transcoding.type))
        revived = [
            (name, _revival(transcoding.hints[name]), reviver)
            for name, reviver in transcoding.revivers.items()
            if reviver is not None
        ]
        walk = self._plain

        def plain(data: Any) -> dict[str, Any]:
            if type(data) is not dict or tuple(data) != names:
                raise NotPlain(transcoding.name)
            out = {k: v if type(v) in _SCALARS else walk(v) for k, v in data.items()}
            for name, (kind, members), reviver in revived:
                value = out[name]
                if value is None:
                    continue
                if kind is _ENUM and type(value) in _SCALARS and value in members:
                    out[name] = members[value].value
                elif kind is not _TUPLE or type(value) is not list:
                    # as the typed path revives it and envelope_of renders it (an enum
                    # value the class does not have raises there and here alike)
                    out[name] = plain_value(reviver(value))
            return out

        return plain

    def _open(self, data: dict[str, Any], account_id: UUID, paths: tuple[str, ...]) -> None:
        mapper = self._mapper
        assert isinstance(mapper, PersonalDataMapper)
        for path in paths:
            head, _, rest = path.partition(".")
            holder = data.get(head) if rest else data
            if holder is None:
                continue
            key = rest or head
            value = holder.get(key)
            if is_sealed(value):
                assert isinstance(value, dict)
                opened = mapper.fields.open(account_id, path, value[SEALED])
                if rest:
                    holder = data[head] = dict(holder)
                holder[key] = erased_value(path) if opened is None else opened


_ENUM, _TUPLE, _OTHER = "enum", "tuple", "other"


def _revival(hint: Any) -> tuple[str, Mapping[Any, Enum]]:
    """How the typed path revives a field, when one type decides it: an enum (its members
    by value) or a tuple (a JSON list stays the list it renders as); else `_OTHER`."""
    allowed = alternatives(hint)
    enums = [a for a in allowed if isinstance(a, type) and issubclass(a, Enum)]
    tuples = [a for a in allowed if typing.get_origin(a) is tuple]
    if len(enums) == 1 and not tuples:
        return _ENUM, enums[0]._value2member_map_
    if len(tuples) == 1 and not enums:
        return _TUPLE, {}
    return _OTHER, {}


def _not_plain(data: Any) -> Any:
    raise NotPlain("transcoding")


@functools.cache
def _topic(topic: str) -> _Topic:
    cls = resolve_topic(topic)
    return _Topic(
        event_type=public_name(cls),
        class_version=int(getattr(cls, "class_version", 1)),
        personal=PERSONAL_FIELDS.get(get_topic(cls), ()),
    )
