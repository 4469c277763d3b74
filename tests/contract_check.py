"""Validating messages against the committed contract (docs/contract/), as a consumer in
another language would: the files, not the code that generated them. Strictly: the tests
also refuse a field the schema does not name (consumers must tolerate one; the ledger must
not send one its contract does not describe)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

CONTRACT = Path(__file__).parents[1] / "docs" / "contract"
ENVELOPE = "envelope.v1"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACT / name).read_text())
    return data


def closed(schema: Any) -> Any:
    """The schema with every object that lists its fields refusing any other."""
    schema = copy.deepcopy(schema)
    _close(schema)
    return schema


def _close(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _close(item)
    if not isinstance(node, dict):
        return
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for value in node.values():
        _close(value)


def validator(schema: dict[str, Any], strict: bool = True) -> Draft202012Validator:
    return Draft202012Validator(
        closed(schema) if strict else schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


class ContractValidator:
    """Every message schema and the AsyncAPI headers, loaded once from docs/contract/."""

    def __init__(self, strict: bool = True) -> None:
        self._asyncapi = load("asyncapi.json")
        self._messages = self._asyncapi["components"]["messages"]
        self._envelope = validator(load(f"schemas/{ENVELOPE}.json"), strict=False)
        self._schemas = {
            path.stem: validator(json.loads(path.read_text()), strict)
            for path in (CONTRACT / "schemas").glob("*.json")
        }

    def errors(self, value: dict[str, Any], headers: dict[str, str] | None = None) -> list[str]:
        found = [e.message for e in self._envelope.iter_errors(value)]
        key = f"{value.get('event_type')}.v{value.get('schema_version')}"
        if key not in self._schemas:
            return [*found, f"no schema {key}"]
        found += [
            f"{key}: {e.json_path}: {e.message}" for e in self._schemas[key].iter_errors(value)
        ]
        if headers is not None:
            header_schema = validator(self._messages[key]["headers"], strict=False)
            found += [f"headers: {e.message}" for e in header_schema.iter_errors(headers)]
        return found
