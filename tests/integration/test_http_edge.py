"""The edge refuses what the commands refuse: 422 problems, never a 500; a customer on another
account's path gets 404 before anything else (issue 10, item 2)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from commands import accounts
from ledger.meta import ActorKind
from tests.fakes.builders import open_cmd, service_ctx
from tests.fakes.gateway import FakeGateway

SURFACES = {"customer": "/v1", "service": "/internal", "support": "/support"}
TOO_LONG = "x" * 101


@pytest.fixture
def own(container: Container) -> UUID:
    container.deps = dataclasses.replace(container.deps, gateway=FakeGateway())
    return accounts.open_account(container.deps, open_cmd(currency="USD"), service_ctx()).account_id


@pytest.fixture
def other(container: Container, own: UUID) -> UUID:
    return accounts.open_account(container.deps, open_cmd("Someone"), service_ctx()).account_id


@pytest.fixture
def app(container: Container, own: UUID) -> FastAPI:
    keys = ApiKeys(
        [
            ApiKeyEntry(
                sha256=hash_key(f"{kind.value}-key"),
                id=kind.value,
                kind=kind,
                scopes=frozenset(SCOPES),
                account_id=own if kind is ActorKind.CUSTOMER else None,
            )
            for kind in (ActorKind.CUSTOMER, ActorKind.SERVICE, ActorKind.SUPPORT)
        ]
    )
    return create_app(container, keys)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def as_(who: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}-key", **headers}


def as_caller_of(target: str) -> dict[str, str]:
    prefix = "/" + target.split("/")[1]
    return as_(next((who for who, p in SURFACES.items() if p == prefix), "service"))


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize("who", SURFACES)
@pytest.mark.parametrize("route", ["invoices/inv-1/pay", "pay-bad-debt"])
def test_a_method_id_the_command_refuses_is_a_422_on_every_surface(
    client: TestClient, own: UUID, who: str, route: str
) -> None:
    reason = {} if who == "customer" else {"reason": "checking the edge"}
    response = client.post(
        f"{SURFACES[who]}/accounts/{own}/{route}",
        json={"method_id": "", **reason},
        headers=as_(who, **{"Idempotency-Key": str(uuid4())}),
    )
    assert_problem(response, 422, "invalid_request")
    assert ["method_id"] in [e["loc"][-1:] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "route",
    [
        "invoices/{id}/pay",
        "invoices/{id}/void",
        "payment-methods/{id}/default",
        "payment-methods/{id}/remove",
        "subscriptions/{id}/cancel",
        "payments/{id}/refunds",
        "credits/{id}/revoke",
        "invoices/{id}/write-off",
    ],
)
def test_a_path_id_longer_than_the_commands_allow_is_a_422(
    client: TestClient, own: UUID, route: str
) -> None:
    body = {"reason": "checking the edge", "amount": 100}
    if route.endswith(("cancel", "pay", "void", "default", "remove", "revoke", "write-off")):
        body.pop("amount")
    response = client.post(
        f"/support/accounts/{own}/{route.format(id=TOO_LONG)}", json=body, headers=as_("support")
    )
    assert_problem(response, 422, "invalid_request")
    assert response.json()["errors"][0]["loc"][0] == "path"


def test_an_invoice_path_id_longer_than_the_commands_allow_is_a_422_on_reads(
    client: TestClient, own: UUID
) -> None:
    response = client.get(f"/internal/accounts/{own}/invoices/{TOO_LONG}", headers=as_("service"))
    assert_problem(response, 422, "invalid_request")


@pytest.mark.parametrize(
    "target",
    [
        "/internal/accounts/{own}/invoices?status=open%00",
        "/internal/accounts/{own}/invoices?limit=5&cursor=a%1fb",
        "/internal/accounts/{own}/invoices?st%00atus=open",
        "/internal/accounts/{own}/invoices/a%00b",
        "/internal/accounts/{own}/invoices/a%7Fb/pdf",
        "/support/accounts?status=open%C2%85",
        "/healthz?x=%00",
    ],
)
def test_a_control_character_in_the_path_or_query_is_a_422(
    client: TestClient, own: UUID, target: str
) -> None:
    response = client.get(target.format(own=own), headers=as_caller_of(target))
    assert_problem(response, 422, "invalid_request")


def test_ordinary_text_in_the_path_and_query_passes(client: TestClient, own: UUID) -> None:
    response = client.get(
        # percent-encoded characters an id may hold ("inv-1.a:b_2") pass the guard
        f"/internal/accounts/{own}/invoices/inv%2D1%2Ea%3Ab_2?min_version=1",
        headers=as_("service"),
    )
    assert_problem(response, 404, "invoice_not_found")


def _customer_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every customer operation, from the OpenAPI document (the app's own route list)."""
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/accounts/{account_id}")
        for method in operations
    )


def test_every_customer_route_is_checked(app: FastAPI) -> None:
    paths = {path for _, path in _customer_routes(app)}
    assert "/v1/accounts/{account_id}/payment-sessions" in paths
    assert "/v1/accounts/{account_id}/invoices/{invoice_id}/pay" in paths
    assert "/v1/accounts/{account_id}/invoices" in paths
    assert len(paths) >= 12


@pytest.mark.parametrize("body", [{}, {"method_id": "", "unknown": 1}, {"reason": 7}])
def test_another_accounts_path_is_a_404_before_any_other_check(
    app: FastAPI, client: TestClient, other: UUID, body: dict[str, Any]
) -> None:
    """Payment sessions are not configured here (no Turnstile): 404 still comes first, and
    neither a bad body, a bad Idempotency-Key, a too long id nor a bad query hides it."""
    headers = as_("customer", **{"Idempotency-Key": "not-a-uuid"})
    for method, path in _customer_routes(app):
        url = re.sub(r"\{(?!account_id)\w+\}", TOO_LONG, path).format(account_id=other)
        response = client.request(
            method, url, json=body, headers=headers, params={"min_version": "zero", "limit": 0}
        )
        assert (method, path, response.status_code) == (method, path, 404), response.text
        assert response.json()["code"] == "account_not_found"


def test_the_own_accounts_path_with_the_same_bad_request_is_a_422(
    client: TestClient, own: UUID
) -> None:
    response = client.post(
        f"/v1/accounts/{own}/invoices/inv-1/pay",
        json={"method_id": "", "unknown": 1},
        headers=as_("customer", **{"Idempotency-Key": "not-a-uuid"}),
    )
    assert_problem(response, 422, "invalid_request")


def test_the_own_payment_session_without_turnstile_is_still_503(
    client: TestClient, own: UUID
) -> None:
    response = client.post(
        f"/v1/accounts/{own}/payment-sessions", json={"method": "card"}, headers=as_("customer")
    )
    assert_problem(response, 503, "payment_flow_not_configured")


@pytest.mark.parametrize("field", ["issued", "due", "paid"])
def test_an_inverted_invoice_date_range_is_a_422(client: TestClient, own: UUID, field: str) -> None:
    params = {f"{field}_from": "2026-03-01T00:00:00Z", f"{field}_to": "2026-02-01T00:00:00Z"}
    response = client.get(f"/v1/accounts/{own}/invoices", params=params, headers=as_("customer"))
    assert_problem(response, 422, "invalid_request")
    assert response.json()["errors"][0]["loc"] == ["query", f"{field}_from"]


@pytest.mark.parametrize("who", ["service", "support"])
def test_an_inverted_history_range_is_a_422(client: TestClient, own: UUID, who: str) -> None:
    params = {"from": "2026-03-01T00:00:00+01:00", "to": "2026-02-01T00:00:00"}
    response = client.get(
        f"{SURFACES[who]}/accounts/{own}/history", params=params, headers=as_(who)
    )
    assert_problem(response, 422, "invalid_request")
    assert response.json()["errors"][0]["loc"] == ["query", "from"]


@pytest.mark.parametrize("moment", ["0.5", "1700000000", "0", "2026-01-31", "yesterday", ""])
@pytest.mark.parametrize(
    "target",
    [
        "/internal/accounts/{own}/invoices?paid_to={m}",
        "/support/accounts/{own}/invoices?issued_from={m}",
        "/internal/accounts/{own}/history?from={m}",
        "/support/accounts/{own}/history?to={m}",
        "/support/accounts/{own}/as-of?at={m}",
    ],
)
def test_a_moment_in_a_query_is_iso_8601_only(
    client: TestClient, own: UUID, target: str, moment: str
) -> None:
    response = client.get(target.format(own=own, m=moment), headers=as_caller_of(target))
    assert_problem(response, 422, "invalid_request")


@pytest.mark.parametrize(
    "moment",
    [
        "2026-01-31T09:30:00Z",
        "2026-01-31T09:30:00.123456+05:30",
        "2026-01-31T09:30",
        "2026-01-31 09:30:00-0800",
    ],
)
def test_iso_8601_moments_with_or_without_an_offset_are_read(
    client: TestClient, own: UUID, moment: str
) -> None:
    invoices = client.get(
        f"/internal/accounts/{own}/invoices",
        params={"issued_from": moment, "issued_to": moment},
        headers=as_("service"),
    )
    assert (invoices.status_code, invoices.json()["items"]) == (200, [])
    history = client.get(
        f"/internal/accounts/{own}/history", params={"to": moment}, headers=as_("service")
    )
    assert history.status_code == 200, history.text


@pytest.mark.parametrize("event_type", ["0.0", "", "payment succeeded", "A" * 101])
def test_a_history_event_type_is_an_event_class_name(
    client: TestClient, own: UUID, event_type: str
) -> None:
    response = client.get(
        f"/internal/accounts/{own}/history", params={"type": event_type}, headers=as_("service")
    )
    assert_problem(response, 422, "invalid_request")
    named = client.get(
        f"/internal/accounts/{own}/history",
        params={"type": "AccountOpened"},
        headers=as_("service"),
    )
    assert [e["event_type"] for e in named.json()["entries"]] == ["AccountOpened"]
