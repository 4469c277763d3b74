"""The safety net of adapters/http/problems.py: a command model's ValidationError raised
inside a route is the caller's 422 problem, never a 500."""

from __future__ import annotations

from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.http import problems
from commands.models import SetDefaultMethod


def test_a_command_the_route_builds_and_its_model_refuses_is_a_422_problem() -> None:
    app = FastAPI()
    problems.install(app)

    @app.post("/methods/{method_id}/default")
    def set_default(method_id: str) -> dict[str, str]:  # typed too loosely, on purpose
        SetDefaultMethod(account_id=uuid4(), method_id=method_id)
        return {"ok": "yes"}

    client = TestClient(app, raise_server_exceptions=False)
    response = client.post(f"/methods/{'m' * 101}/default")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["errors"][0]["loc"] == ["method_id"]
    assert client.post("/methods/m-1/default").json() == {"ok": "yes"}
