"""The contract, as a consumer in any language would use it: the files of docs/contract/
(or the same files downloaded from the ledger's API, `GET /contract/asyncapi.json` and
`GET /contract/schemas/{name}`), nothing of the ledger's code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator


class ContractOutdated(RuntimeError):
    """A message of a known event type in a version this copy of the contract lacks: the
    ledger published a newer contract. Stop (commit nothing) and fetch it."""


class Contract:
    def __init__(self, directory: Path) -> None:
        asyncapi = json.loads((directory / "asyncapi.json").read_text())
        self._schemas: dict[tuple[str, int], Draft202012Validator] = {}
        for message in asyncapi["components"]["messages"].values():
            ref = message["payload"]["schema"]["$ref"]
            version = int(message["headers"]["properties"]["schema-version"]["const"])
            schema = json.loads((directory / ref).read_text())
            self._schemas[(message["name"], version)] = _validator(schema)
        self._envelope = _validator(
            json.loads((directory / "schemas/envelope.v1.json").read_text())
        )

    def knows(self, event_type: str) -> bool:
        return any(name == event_type for name, _ in self._schemas)

    def errors(self, value: Any) -> list[str]:
        """Why the message is not valid (empty when it is). A message of an event type this
        contract does not know is checked as an envelope only: consumers skip such types."""
        found = [f"{e.json_path}: {e.message}" for e in self._envelope.iter_errors(value)]
        if found or not self.knows(value["event_type"]):
            return found
        key = (value["event_type"], value["schema_version"])
        if key not in self._schemas:
            raise ContractOutdated(f"no schema for {key[0]} v{key[1]}")
        return [f"{e.json_path}: {e.message}" for e in self._schemas[key].iter_errors(value)]


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
