"""Error kinds inside, HTTP statuses at the edge: every domain error in the code base declares
its kind and its own stable code, one table in adapters/http/problems.py gives every kind
its status, authentication and rate limits are edge errors, and docs/errors.md lists every
code with the answer it gets."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.http.auth import Forbidden, Unauthenticated
from adapters.http.problems import STATUSES, EdgeError, install
from adapters.http.ratelimit import RateLimited
from commands.errors import CommandInFlight
from ledger.errors import DomainError, ErrorKind

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "commands", "queries", "projections", "adapters")
INNER = ("ledger", "commands", "queries", "projections")  # no HTTP status may appear here
DOC_ROW = re.compile(r"^\| `(\w+)` \| (\w+) \| (\d{3}) \| `(\w+)` \|$", re.MULTILINE)
E = TypeVar("E", bound=Exception)


def _subclasses(base: type[E]) -> Iterator[type[E]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.fixture(scope="module")
def domain_errors() -> list[type[DomainError]]:
    for name in PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            importlib.import_module(module.name)
    return sorted(set(_subclasses(DomainError)), key=lambda error: error.code)


def _edge_errors() -> list[type[EdgeError]]:
    return sorted(set(_subclasses(EdgeError)), key=lambda error: error.code)


def test_every_domain_error_declares_its_kind_and_its_own_code(
    domain_errors: list[type[DomainError]],
) -> None:
    assert len(domain_errors) > 60  # the whole code base was walked
    undeclared = [e for e in domain_errors if "kind" not in vars(e) or "code" not in vars(e)]
    assert undeclared == []
    assert all(isinstance(e.kind, ErrorKind) and e.code for e in domain_errors)


def test_codes_are_unique_across_domain_and_edge_errors(
    domain_errors: list[type[DomainError]],
) -> None:
    codes = Counter([e.code for e in domain_errors] + [e.code for e in _edge_errors()])
    assert [code for code, n in codes.items() if n > 1] == []  # none is shared on purpose


def test_the_table_answers_every_kind_and_its_exceptions_name_codes_of_that_kind(
    domain_errors: list[type[DomainError]],
) -> None:
    assert set(STATUSES) == set(ErrorKind)
    codes_of = {kind: {e.code for e in domain_errors if e.kind is kind} for kind in ErrorKind}
    assert all(codes_of.values())  # no kind nobody uses
    for kind, (_, by_code) in STATUSES.items():
        assert set(by_code) <= codes_of[kind], kind


def test_no_http_status_inside_the_domain_commands_queries_or_projections(
    domain_errors: list[type[DomainError]],
) -> None:
    assert [e for e in domain_errors if hasattr(e, "http_status")] == []
    inner = [p for name in INNER for p in (ROOT / name).rglob("*.py")]
    assert inner
    assert [p for p in inner if "http_status" in p.read_text()] == []


def test_authentication_and_rate_limits_are_edge_errors_not_domain_errors() -> None:
    for error in (Unauthenticated, Forbidden, RateLimited):
        assert issubclass(error, EdgeError)
        assert not issubclass(error, DomainError)
    assert not [e for e in _edge_errors() if issubclass(e, DomainError)]


def _raised(error: type[Exception]) -> Exception:
    return error(7) if error is RateLimited else error()


def test_every_error_answers_the_status_docs_errors_md_gives_it(
    domain_errors: list[type[DomainError]],
) -> None:
    documented = {code: (kind, int(status), name) for code, kind, status, name in _doc_rows()}
    errors: list[type[Any]] = [*domain_errors, *_edge_errors()]
    by_code = {e.code: e for e in errors}
    app = FastAPI()
    install(app)

    @app.get("/raise/{code}")
    def raise_it(code: str) -> None:
        raise _raised(by_code[code])

    client = TestClient(app)
    answered = {}
    for error in errors:
        response = client.get(f"/raise/{error.code}")
        body = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert (body["status"], body["code"]) == (response.status_code, error.code)
        assert body["detail"] == _raised(error).detail  # type: ignore[attr-defined]
        kind = error.kind.value if issubclass(error, DomainError) else "edge"
        answered[error.code] = (kind, response.status_code, error.__name__)
    assert answered == documented


def test_a_retry_after_reaches_the_header_from_domain_and_edge_errors() -> None:
    app = FastAPI()
    install(app)

    @app.get("/in-flight")
    def in_flight() -> None:
        raise CommandInFlight()

    @app.get("/limited")
    def limited() -> None:
        raise RateLimited(7)

    client = TestClient(app)
    assert client.get("/in-flight").headers["Retry-After"] == "2"
    assert client.get("/limited").headers["Retry-After"] == "7"


def _doc_rows() -> list[tuple[str, str, str, str]]:
    rows = DOC_ROW.findall((ROOT / "docs" / "errors.md").read_text())
    assert rows
    return rows
