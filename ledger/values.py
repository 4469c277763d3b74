"""What the domain's value objects share."""

from __future__ import annotations

from typing import Any, Self


class Immutable:
    """A frozen value whose fields are immutable too (str, int, enums, datetimes, other
    Immutables and tuples of them): a copy, even a deep one, is the value itself. The
    repository deep-copies a cached account before each command; without this, copying
    its invoices, attempts and methods field by field costs more than decoding them."""

    __slots__ = ()

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self
