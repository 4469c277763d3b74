"""The event contract of `billing.events`, served to downstream services (no key needed: it
describes the topic, not any account): the AsyncAPI document and the JSON Schemas it refers
to, at the same relative paths as in docs/contract/ (`schemas/<name>.json` beside
`asyncapi.json`), so the document's `$ref`s resolve against the URL it was fetched from.
Generated from the code when the app is built, for the topic this deployment publishes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse

from adapters.contract.asyncapi import asyncapi_document
from adapters.contract.schemas import all_schemas

ASYNCAPI_PATH = "/contract/asyncapi.json"
SCHEMA_PATH = "/contract/schemas/{name}"


def install(app: FastAPI, topic: str) -> None:
    asyncapi = asyncapi_document(topic)
    schemas = {f"{key}.json": schema for key, schema in all_schemas().items()}
    app.add_api_route(
        ASYNCAPI_PATH, lambda: JSONResponse(asyncapi), methods=["GET"], tags=["contract"]
    )
    app.add_api_route(SCHEMA_PATH, _schema(schemas), methods=["GET"], tags=["contract"])


def _schema(schemas: Mapping[str, Any]) -> Callable[[str], JSONResponse]:
    def schema(name: str) -> JSONResponse:
        """`name` as in the AsyncAPI document: `<event_type>.v<version>.json`."""
        if name not in schemas:
            raise HTTPException(404, f"no schema {name}")
        return JSONResponse(schemas[name])

    return schema
