"""JSON Schema (draft 2020-12) of a Python type, as `ledger.envelope` writes it in JSON.

The mapping mirrors `ledger.envelope.plain_value` and `EventMeta.as_dict`: UUIDs and datetimes
are strings (formats `uuid`, `date-time`), enums their values, dataclasses objects with
every field (`dataclasses.asdict`), tuples and lists arrays, `dict[str, X]` objects.
Dataclasses and enums become `$defs` named after their class, so a shape shared by several
events (Money, PaymentMethod, ...) is written once per document. Objects leave
`additionalProperties` open: a consumer must ignore a field it does not know (the
compatibility policy, docs/contract/COMPATIBILITY.md, depends on it).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

Schema = dict[str, Any]

SCALARS: Mapping[Any, Schema] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    UUID: {"type": "string", "format": "uuid"},
    datetime: {"type": "string", "format": "date-time"},
}
NULL: Schema = {"type": "null"}


class NoSchema(TypeError):
    """A type the envelope cannot carry (a float, a set, ...): money is never a float."""


class TypeSchemas:
    """Builds schemas and collects the `$defs` they refer to.

    `omitted_when_null` names, per dataclass, the fields its JSON leaves out rather than
    writing null (e.g. `EventMeta.fingerprint`): not required, and never null when there."""

    def __init__(self, omitted_when_null: Mapping[type[Any], Iterable[str]] | None = None):
        self.defs: dict[str, Schema] = {}
        self._owners: dict[str, type[Any]] = {}
        self._optional = {cls: frozenset(names) for cls, names in (omitted_when_null or {}).items()}

    def of(self, tp: Any) -> Schema:
        if tp is Any:
            return {}
        if tp in SCALARS:
            return dict(SCALARS[tp])
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            return self._union(typing.get_args(tp))
        if origin is typing.Literal:
            return {"enum": list(typing.get_args(tp))}
        if origin in (list, tuple):
            return self._array(tp)
        if origin is dict:
            return self._mapping(tp)
        if isinstance(tp, type) and issubclass(tp, Enum):
            return self._define(tp, lambda: _enum(tp))
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            return self._define(tp, lambda: self.object_of(tp))
        raise NoSchema(f"no JSON Schema for {tp!r}")

    def object_of(self, cls: type[Any], leave_out: Iterable[str] = ()) -> Schema:
        """The object a dataclass is written as: its fields in order, all required but the
        ones written only when set."""
        hints = typing.get_type_hints(cls)
        skipped = frozenset(leave_out)
        names = [f.name for f in dataclasses.fields(cls) if f.name not in skipped]
        optional = self._optional.get(cls, frozenset())
        return {
            "type": "object",
            "properties": {
                name: self.of(_not_none(hints[name]) if name in optional else hints[name])
                for name in names
            },
            "required": [name for name in names if name not in optional],
        }

    def _union(self, args: tuple[Any, ...]) -> Schema:
        branches = [self.of(a) for a in args if a is not type(None)]
        if type(None) in args:
            branches.append(dict(NULL))
        return branches[0] if len(branches) == 1 else {"anyOf": branches}

    def _array(self, tp: Any) -> Schema:
        args = typing.get_args(tp)
        if typing.get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            items = [self.of(a) for a in args]
            return {"type": "array", "prefixItems": items, "items": False}
        return {"type": "array", "items": self.of(args[0]) if args else {}}

    def _mapping(self, tp: Any) -> Schema:
        key, value = typing.get_args(tp) or (str, Any)
        if key is not str:
            raise NoSchema(f"JSON object keys are strings, not {key!r}")
        return {"type": "object", "additionalProperties": self.of(value)}

    def _define(self, cls: type[Any], build: Callable[[], Schema]) -> Schema:
        name = cls.__name__
        owner = self._owners.setdefault(name, cls)
        if owner is not cls:
            raise NoSchema(f"two shapes named {name}: {owner!r} and {cls!r}")
        if name not in self.defs:
            self.defs[name] = {}  # a placeholder while building: a recursive shape refers to it
            self.defs[name] = build()
        return {"$ref": f"#/$defs/{name}"}


def _not_none(tp: Any) -> Any:
    """`X | None` as X: for a field left out of the JSON when None, so never null there."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return tp
    kept = tuple(a for a in typing.get_args(tp) if a is not type(None))
    return kept[0] if len(kept) == 1 else typing.Union[kept]  # noqa: UP007


def _enum(cls: type[Enum]) -> Schema:
    values = [member.value for member in cls]
    kinds = {type(v) for v in values}
    if kinds == {str}:
        return {"type": "string", "enum": values}
    if kinds == {int}:
        return {"type": "integer", "enum": values}
    raise NoSchema(f"enum {cls.__name__} mixes value types")
