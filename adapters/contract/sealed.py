"""Personal fields in the contract: published sealed with the account's data key
({"sealed": "<base64>"}, opaque to subscribers), or as their erased value once the account is
forgotten, or null where the field may be null (ledger/personal.py,
adapters/kafka/personal.py; docs/events.md, "Personal data and forgetting")."""

from __future__ import annotations

import copy

from adapters.contract.types import NULL, Schema, TypeSchemas
from ledger.personal import erased_value

SEALED_DEF = "Sealed"
SEALED_SCHEMA: Schema = {
    "type": "object",
    "description": "A personal field sealed with the account's data key (AES-GCM): opaque"
    " to subscribers, and unreadable by anyone once the account is forgotten.",
    "properties": {"sealed": {"type": "string", "contentEncoding": "base64"}},
    "required": ["sealed"],
    "additionalProperties": False,
}


def seal(types: TypeSchemas, data: Schema, paths: tuple[str, ...]) -> Schema:
    """`data` (an event's object schema) with each personal path sealed-or-erased; a path into
    a shared shape ("method.payer_email") gets a sealed copy of that shape of its own."""
    for path in paths:
        head, _, rest = path.partition(".")
        if rest:
            data["properties"][head] = _sealed_shape(types, data["properties"][head], rest, path)
        else:
            data["properties"][head] = _sealed_field(types, data["properties"][head], path)
    return data


def _sealed_shape(types: TypeSchemas, ref: Schema, field: str, path: str) -> Schema:
    nullable = _allows_null(ref)
    name = ref.get("$ref", "").removeprefix("#/$defs/") or _first_ref(ref)
    sealed_name = f"Sealed{name}"
    if sealed_name not in types.defs:
        shape = copy.deepcopy(types.defs[name])
        shape["properties"][field] = _sealed_field(types, shape["properties"][field], path)
        types.defs[sealed_name] = shape
    sealed_ref: Schema = {"$ref": f"#/$defs/{sealed_name}"}
    return {"anyOf": [sealed_ref, dict(NULL)]} if nullable else sealed_ref


def _sealed_field(types: TypeSchemas, field: Schema, path: str) -> Schema:
    types.defs.setdefault(SEALED_DEF, SEALED_SCHEMA)
    branches: list[Schema] = [{"$ref": f"#/$defs/{SEALED_DEF}"}]
    erased = erased_value(path)
    if erased is not None:
        branches.append({"const": erased})
    if erased is None or _allows_null(field):
        branches.append(dict(NULL))
    return {"anyOf": branches}


def _allows_null(schema: Schema) -> bool:
    return schema == NULL or any(b == NULL for b in schema.get("anyOf", []))


def _first_ref(schema: Schema) -> str:
    refs = [b["$ref"] for b in schema.get("anyOf", []) if "$ref" in b]
    return str(refs[0]).removeprefix("#/$defs/")
