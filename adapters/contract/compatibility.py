"""Is a new schema of a published message version compatible with the old one?

Compatible means: every message the new schema accepts, the old one accepts too, so a
consumer validating with the schema it was built against never refuses a message of that
version (docs/contract/COMPATIBILITY.md). For the schemas this package generates (objects,
arrays, `anyOf`, `const`/`enum`, `type`, `format`, `minimum`, local `$ref`s) that is
checked structurally:

* a field may be added (objects are open: consumers ignore fields they do not know);
* a field may not be removed or renamed, nor stop being required;
* a field's type may narrow (`string|null` -> `string`) but never change or widen
  (`string` -> `string|null`, `integer` -> `string`), and an enum may not gain values.

Each breaking change is named with its path, e.g. `data.attempt.amount: removed`.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
_SAME_KEYWORDS = ("format", "pattern")
_INFERRED = {str: "string", bool: "boolean", int: "integer", type(None): "null"}


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What `new` lets through that `old` refused: empty when `new` is compatible."""
    return _Comparison(old, new).check(old, new, "$")


class _Comparison:
    def __init__(self, old_document: Schema, new_document: Schema) -> None:
        self._old = old_document
        self._new = new_document

    def check(self, old: Any, new: Any, path: str) -> list[str]:
        old, new = _resolve(old, self._old), _resolve(new, self._new)
        if old is True or old == {}:
            return []
        if new is False:
            return []
        if old is False or new is True or new == {}:
            return [f"{path}: accepts anything now"]
        if "anyOf" in new:
            return [p for branch in new["anyOf"] for p in self.check(old, branch, path)]
        if "anyOf" in old:
            if any(not self.check(branch, new, path) for branch in old["anyOf"]):
                return []
            return [f"{path}: {_describe(new, self._new)} fits none of {_describe(old, self._old)}"]
        return self._scalars(old, new, path) + self._shape(old, new, path)

    def _scalars(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems = []
        old_types, new_types = _types(old), _types(new)
        if old_types and not (new_types and _narrower(new_types, old_types)):
            problems.append(f"{path}: type {_show(new_types)} was {_show(old_types)}")
        allowed, given = _values(old), _values(new)
        if allowed is not None and (given is None or not set(given) <= set(allowed)):
            problems.append(f"{path}: values {_show(given)} were {_show(allowed)}")
        for keyword in _SAME_KEYWORDS:
            if keyword in old and new.get(keyword) != old[keyword]:
                problems.append(f"{path}: {keyword} {new.get(keyword)!r} was {old[keyword]!r}")
        if "minimum" in old and new.get("minimum", float("-inf")) < old["minimum"]:
            problems.append(f"{path}: minimum {new.get('minimum')} was {old['minimum']}")
        return problems

    def _shape(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems = []
        if "properties" in old or "required" in old or "additionalProperties" in old:
            problems += self._object(old, new, path)
        if "items" in old:
            problems += self.check(old["items"], new.get("items", True), f"{path}[]")
        return problems

    def _object(self, old: Schema, new: Schema, path: str) -> list[str]:
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        required = set(new.get("required", []))
        problems = [
            f"{path}.{name}: no longer required"
            for name in old.get("required", [])
            if name not in required and name in new_fields
        ]
        for name, was in old_fields.items():
            if name not in new_fields:
                problems.append(f"{path}.{name}: removed")
            else:
                problems += self.check(was, new_fields[name], f"{path}.{name}")
        others = old.get("additionalProperties", True)
        for name, now in new_fields.items():
            if name not in old_fields:
                problems += self.check(others, now, f"{path}.{name}")
        if "additionalProperties" in old:
            rest = new.get("additionalProperties", True)
            problems += self.check(others, rest, f"{path}.*")
        return problems


def _resolve(schema: Any, document: Schema) -> Any:
    seen = set()
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/") or ref in seen:
            raise ValueError(f"cannot compare through $ref {ref!r}")
        seen.add(ref)
        schema = document["$defs"][ref.removeprefix("#/$defs/")]
    return schema


def _types(schema: Schema) -> set[str] | None:
    if "type" in schema:
        given = schema["type"]
        return set(given) if isinstance(given, list) else {given}
    values = _values(schema)
    if values is None:
        return None
    return {_INFERRED.get(type(v), "object") for v in values}


def _values(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _narrower(new: set[str], old: set[str]) -> bool:
    widened = set(old) | ({"integer"} if "number" in old else set())
    return new <= widened


def _describe(schema: Schema, document: Schema) -> str:
    schema = _resolve(schema, document)
    if "anyOf" in schema:
        return "|".join(sorted(_describe(branch, document) for branch in schema["anyOf"]))
    return _show(_types(schema) or _values(schema) or ["a schema"])


def _show(values: Any) -> str:
    if values is None:
        return "any"
    return "|".join(sorted(str(v) for v in values))
