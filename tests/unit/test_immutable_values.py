"""A value marked Immutable copies as itself (ledger.values): that is only safe when every
field is immutable too, or when the class copies its mutable fields itself."""

from __future__ import annotations

import copy
import importlib
import pkgutil
import types
import typing
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Union
from uuid import UUID

import ledger
from ledger.invoices import Invoice, LineItem
from ledger.money import Money
from ledger.values import Immutable

ATOMS = (str, int, bool, float, datetime, date, timedelta, UUID, type(None))


def _immutables() -> list[type[Immutable]]:
    for module in pkgutil.walk_packages(ledger.__path__, "ledger."):
        importlib.import_module(module.name)
    found, todo = [], list(Immutable.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _immutable(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return all(_immutable(arg) for arg in typing.get_args(hint))
    if origin is tuple:
        return all(_immutable(arg) for arg in typing.get_args(hint) if arg is not Ellipsis)
    if origin is not None:
        return False  # dict, list, set and the like
    return isinstance(hint, type) and issubclass(hint, (*ATOMS, Enum, Immutable))


def test_every_immutable_value_holds_only_immutable_fields_or_copies_the_others() -> None:
    classes = _immutables()
    assert len(classes) >= 12  # the ledger's value objects were all found
    for cls in classes:
        mutable = {
            name: hint
            for name, hint in typing.get_type_hints(cls).items()
            if name in cls.__dataclass_fields__ and not _immutable(hint)  # type: ignore[attr-defined]
        }
        if mutable:
            assert "__deepcopy__" in vars(cls), f"{cls.__name__}: {mutable}"


def test_an_invoice_copy_shares_nothing_it_could_change() -> None:
    line = LineItem("Pro", Money(2000, "USD"))
    draft = Invoice("inv-1", "USD", (line,), datetime(2026, 1, 1))
    assert copy.deepcopy(draft) is draft
    finalized = draft.finalized("A-1", datetime(2026, 1, 1), None, {"cr-1": 500})
    copied = copy.deepcopy(finalized)
    assert copied == finalized
    assert copied.credits_used is not finalized.credits_used
