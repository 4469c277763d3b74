"""The OpenAPI document: every operation has a summary and a description, authenticated
operations declare the bearer scheme, problem+json answers are declared where they apply,
and every request body carries an example its model accepts."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, SecretStr

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.http.openapi import BEARER, OPERATIONS, PROBLEM, operation_key, surface_of
from adapters.settings import Settings

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def doc() -> Doc:
    settings = Settings(database_url="postgresql://unused/none", metrics_token=SecretStr("t"))
    app = create_app(cast(Container, SimpleNamespace(settings=settings)), ApiKeys([]))
    served: Doc = TestClient(app).get("/openapi.json").json()
    return served


def operations(doc: Doc) -> list[tuple[str, str, Doc]]:
    return [(m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_operation_has_a_summary_and_a_description(doc: Doc) -> None:
    missing = [operation_key(m, p) for m, p, _ in operations(doc)]
    assert [key for key in missing if key not in OPERATIONS] == []
    for method, path, op in operations(doc):
        assert op["summary"].strip(), (method, path)
        assert len(op["description"].strip()) > len(op["summary"]), (method, path)
    assert len(operations(doc)) > 80  # every surface's routes are in the document


def test_authenticated_operations_declare_the_bearer_scheme(doc: Doc) -> None:
    scheme = doc["components"]["securitySchemes"][BEARER]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, op in operations(doc):
        expected: list[dict[str, list[str]]] | None = (
            [{BEARER: []}] if surface_of(path) or path == "/metrics" else None
        )
        assert op.get("security") == expected, (method, path)


def _problems(op: Doc) -> set[int]:
    return {
        int(status)
        for status, response in op["responses"].items()
        if PROBLEM in response.get("content", {})
    }


def test_problem_answers_are_declared_where_they_apply(doc: Doc) -> None:
    for method, path, op in operations(doc):
        declared = _problems(op)
        if surface_of(path):
            assert {401, 403, 429} <= declared, (method, path)
        if "{" in path:
            assert 404 in declared, (method, path)
        if surface_of(path) and method != "get":
            assert 409 in declared, (method, path)
        if op.get("parameters") or op.get("requestBody"):
            assert 422 in declared, (method, path)
    paths = doc["paths"]
    assert 428 in _problems(paths["/v1/accounts/{account_id}/pay-bad-debt"]["post"])
    assert 428 in _problems(
        paths["/internal/accounts/{account_id}/payments/{attempt_id}/refunds"]["post"]
    )
    assert {402, 503} <= _problems(paths["/v1/accounts/{account_id}/payment-sessions"]["post"])
    assert {400, 429, 503} <= _problems(paths["/webhooks/stripe"]["post"])
    assert _problems(paths["/healthz"]["get"]) == set()
    assert "HTTPValidationError" not in json.dumps(doc)


def test_every_ref_resolves_and_every_response_is_described(doc: Doc) -> None:
    schemas = doc["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs <= schemas.keys()
    for method, path, op in operations(doc):
        assert all(r.get("description") for r in op["responses"].values()), (method, path)
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    todo: list[type[BaseModel]] = [BaseModel]
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        if model.__module__.startswith("adapters.http"):
            found.setdefault(model.__name__, model)
    return found


def test_every_request_body_has_an_example_its_model_accepts(doc: Doc) -> None:
    models = _models()
    bodies = 0
    for method, path, op in operations(doc):
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            continue
        bodies += 1
        assert "example" in content, (method, path)
        name = content["schema"]["$ref"].rsplit("/", 1)[1]
        models[name].model_validate(content["example"])
        if path.startswith("/support/") and "reason" in models[name].model_fields:
            assert content["example"]["reason"], (method, path)
    assert bodies > 40
