"""The API serves the event contract: the AsyncAPI document and every schema it refers to,
without a key, the same as the committed files in docs/contract/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from tests.contract_check import CONTRACT, load

ASYNCAPI = "/contract/asyncapi.json"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container, ApiKeys([]))) as test_client:
        yield test_client


def test_the_asyncapi_document_and_each_schema_it_refers_to_are_served(
    client: TestClient,
) -> None:
    served = client.get(ASYNCAPI)
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    document = served.json()
    assert document == load("asyncapi.json")
    refs = [m["payload"]["schema"]["$ref"] for m in document["components"]["messages"].values()]
    assert len(refs) == 39
    for ref in refs:
        schema = client.get(urljoin(ASYNCAPI, ref))
        assert schema.status_code == 200, ref
        assert schema.json() == json.loads((CONTRACT / ref).read_text())
    assert client.get("/contract/schemas/envelope.v1.json").json() == load(
        "schemas/envelope.v1.json"
    )


def test_an_unknown_schema_is_a_404_problem(client: TestClient) -> None:
    missing = client.get("/contract/schemas/AccountOpened.v9.json")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
