"""API keys in PostgreSQL, managed by `ledger keys` while an API is running: a new key
works, a revoked one stops working within the cache time without a restart, an expired one
never works, and a key has no scope unless it was given one. The keys file keeps working."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.keys import for_serving
from adapters.cli.main import app as cli
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys, hash_key
from adapters.postgres.api_keys import PostgresKeys
from ledger.meta import ActorKind

pytestmark = pytest.mark.usefixtures("configured")

CACHE_S = 0.3
runner = CliRunner()


@pytest.fixture
def api(container: Container) -> Iterator[TestClient]:
    keys = ApiKeys([], PostgresKeys(container.connection), cache_s=CACHE_S)
    with TestClient(create_app(container, keys)) as client:
        yield client


def ledger(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def new_key(*args: str) -> tuple[str, str]:
    out = ledger("keys", "new", *args)
    key, key_id = re.search(r"key \(shown once\): (\S+)", out), re.search(r"key id: (\S+)", out)
    assert key, out
    assert key_id, out
    return key.group(1), key_id.group(1)


def status(api: TestClient, key: str) -> int:
    code: int = api.get(
        "/internal/accounts", headers={"Authorization": f"Bearer {key}"}
    ).status_code
    return code


def test_a_revoked_key_stops_working_in_a_running_api_without_a_restart(api: TestClient) -> None:
    key, key_id = new_key("svc-reports", "--kind", "service", "--scope", "accounts:read")
    assert status(api, key) == 200
    listed = ledger("keys", "list")
    assert key_id in listed
    assert "active" in listed
    assert key not in listed

    revoked_at = time.monotonic()
    assert f"revoked {key_id}" in ledger("keys", "revoke", key_id)
    while status(api, key) == 200:
        assert time.monotonic() - revoked_at < CACHE_S + 2, "still accepted past the cache time"
        time.sleep(0.05)
    assert status(api, key) == 401
    assert "revoked" in ledger("keys", "list")


def test_a_new_key_has_no_scope_unless_given_one(api: TestClient) -> None:
    key, _ = new_key("svc-bare", "--kind", "service")
    answer = api.get("/internal/accounts", headers={"Authorization": f"Bearer {key}"})
    assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")
    assert "accounts" not in ledger("keys", "list")  # the listing shows no scope either


def test_expired_keys_are_refused_and_expiry_is_set_in_days(
    api: TestClient, container: Container
) -> None:
    directory = PostgresKeys(container.connection)
    past = datetime.now(UTC) - timedelta(seconds=1)
    directory.create("lk_old", "svc-old", ActorKind.SERVICE, ["accounts:read"], None, past)
    assert status(api, "lk_old") == 401
    key, key_id = new_key(
        "svc-30d", "--kind", "service", "--scope", "accounts:read", "--expires-in", "30"
    )
    assert status(api, key) == 200
    stored = directory.find(hash_key(key))
    assert stored is not None
    assert stored.key_id == key_id
    assert stored.expires_at is not None
    assert timedelta(days=29) < stored.expires_at - datetime.now(UTC) <= timedelta(days=30)
    assert stored.state(datetime.now(UTC) + timedelta(days=31)) == "expired"


def test_bad_key_requests_are_refused_with_one_line(container: Container) -> None:
    for args, message in (
        (["svc", "--kind", "service", "--scope", "accounts:everything"], "unknown scope"),
        (["cust", "--kind", "customer"], "--account-id is required"),
        (["svc", "--kind", "service", "--expires-in", "0"], "expires-in"),
    ):
        result = runner.invoke(cli, ["keys", "new", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
    missing = runner.invoke(cli, ["keys", "revoke", "key_nope"])
    assert (missing.exit_code, "no key key_nope" in missing.output) == (2, True)
    assert PostgresKeys(container.connection).all() == []


def test_a_customer_key_reaches_its_account(api: TestClient) -> None:
    account = "7d0f5b1c-4a57-4a8e-9a3e-5b2f4f3c9d10"
    key, _ = new_key(
        "cust-1", "--kind", "customer", "--account-id", account, "--scope", "accounts:read"
    )
    answer = api.get(f"/v1/accounts/{UUID(account)}", headers={"Authorization": f"Bearer {key}"})
    assert (answer.status_code, answer.json()["code"]) == (404, "account_not_found")  # not 401/403


def test_the_keys_file_works_beside_the_table(container: Container, tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.json"
    entry = {
        "id": "svc-file",
        "kind": "service",
        "scopes": ["accounts:read"],
        "sha256": hash_key("file-key-0123456789"),
    }
    keys_file.write_text(json.dumps([entry]))
    container.settings = container.settings.model_copy(update={"api_keys_file": keys_file})
    table_key, _ = new_key("svc-table", "--kind", "service", "--scope", "accounts:read")
    with TestClient(create_app(container, for_serving(container))) as served:
        assert status(served, "file-key-0123456789") == 200
        assert status(served, table_key) == 200
        assert status(served, "unknown-key") == 401
