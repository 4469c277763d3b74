"""JSON transcodings for the domain's value objects, so events and snapshots can hold them.

JSON has no enums or tuples: enum-typed and tuple-typed fields are rebuilt from the
dataclass's type hints on the way back, so a snapshot restores exactly the live state.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any

from eventsourcing.persistence import Transcoding


class DataclassAsDict(Transcoding):
    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"
        # Decided once per field, not per value: most fields come back as they are.
        self.hints = typing.get_type_hints(cls)
        self.revivers = {name: _reviver(hint) for name, hint in self.hints.items()}

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**{k: self._revived(k, v) for k, v in data.items()})

    def _revived(self, name: str, value: Any) -> Any:
        reviver = self.revivers[name]
        return value if reviver is None or value is None else reviver(value)


def _reviver(hint: Any) -> Callable[[Any], Any] | None:
    """How a field's JSON value becomes its typed value; None when it is used as it is."""
    if not any(_needs_revival(candidate) for candidate in alternatives(hint)):
        return None
    return lambda value: _revive(hint, value)


def _needs_revival(candidate: Any) -> bool:
    is_enum = isinstance(candidate, type) and issubclass(candidate, Enum)
    return is_enum or typing.get_origin(candidate) is tuple


def _revive(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    for candidate in alternatives(hint):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate(value)
        if typing.get_origin(candidate) is tuple and isinstance(value, list):
            return tuple(value)
    return value


def alternatives(hint: Any) -> tuple[Any, ...]:
    """The types a field's hint allows (those of a union, or the hint itself)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)
