"""The event contract in docs/contract/ is the code's: a schema for the envelope and for every
event type and version, the AsyncAPI document valid against the official AsyncAPI 3.0.0
schema, and messages the code builds valid against the committed files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from adapters.contract.asyncapi import DEFAULT_TOPIC, asyncapi_document
from adapters.contract.files import differences
from adapters.contract.history import EARLIER_VERSIONS, EarlierVersion
from adapters.contract.schemas import message_versions
from adapters.contract.types import NoSchema, TypeSchemas
from adapters.field_cipher import AesGcmFields
from adapters.kafka.codec import headers_of
from adapters.kafka.personal import sealed
from adapters.settings import Settings
from commands.application import LedgerApplication
from ledger.account.registry import PUBLIC_EVENTS, event_class_named
from ledger.envelope import envelope_of
from ledger.personal import ERASED, ERASED_EMAIL
from tests.contract_check import CONTRACT, ContractValidator, load
from tests.fakes.data_keys import InMemoryDataKeys
from tests.fixtures.store_fixture import load as load_store
from tests.fixtures.store_fixture import stored_of

# The official schema, fetched (pinned, sha256 checked) by scripts/setup-services.
ASYNCAPI_SCHEMA = Path(__file__).parents[2] / ".cache" / "asyncapi" / "asyncapi-3.0.0.schema.json"


def official_asyncapi_schema() -> dict[str, Any]:
    assert ASYNCAPI_SCHEMA.is_file(), f"{ASYNCAPI_SCHEMA} is missing: run scripts/setup-services"
    schema: dict[str, Any] = json.loads(ASYNCAPI_SCHEMA.read_text())
    return schema


def committed_keys() -> set[str]:
    return {p.stem for p in (CONTRACT / "schemas").glob("*.json")}


def test_every_event_type_and_version_has_a_committed_schema() -> None:
    wanted = {f"{e.name}.v{v}" for e in PUBLIC_EVENTS for v in range(1, e.version + 1)}
    assert len(wanted) == 39
    assert {m.key for m in message_versions()} == wanted
    assert committed_keys() == wanted | {"envelope.v1"}


def test_earlier_versions_are_of_registered_events_and_older_than_theirs() -> None:
    current = {e.name: e.version for e in PUBLIC_EVENTS}
    for earlier in EARLIER_VERSIONS:
        assert 1 <= earlier.version < current[earlier.name], earlier


@pytest.mark.parametrize("earlier", EARLIER_VERSIONS, ids=lambda e: f"{e.name}.v{e.version}")
def test_an_earlier_version_upcast_has_the_fields_of_the_next(earlier: EarlierVersion) -> None:
    # Ties the kept data of an earlier version to the upcaster that reads it.
    cls = event_class_named(earlier.name)
    state = {f.name: "insufficient_funds" for f in dataclasses.fields(earlier.data)}
    getattr(cls, f"upcast_v{earlier.version}_v{earlier.version + 1}")(state)
    after = {(m.name, m.version): m for m in message_versions()}[
        (earlier.name, earlier.version + 1)
    ]
    wanted = {f.name for f in dataclasses.fields(after.data)} - after.leave_out
    assert set(state) == wanted


def test_the_committed_contract_is_what_the_code_generates() -> None:
    assert differences(CONTRACT) == [], "run `ledger contract generate` and commit the result"


@pytest.mark.parametrize("key", sorted(committed_keys()))
def test_each_schema_is_a_valid_draft_2020_12_schema(key: str) -> None:
    schema = load(f"schemas/{key}.json")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_asyncapi_document_is_valid_against_the_official_asyncapi_3_schema() -> None:
    official = official_asyncapi_schema()
    document = load("asyncapi.json")
    errors = [e.message for e in Draft7Validator(official).iter_errors(document)]
    assert errors == []
    assert document["asyncapi"] == "3.0.0"


def test_an_invalid_asyncapi_document_is_refused_by_the_official_schema() -> None:
    # The vendored schema does check: the same document with a broken operation fails.
    official = official_asyncapi_schema()
    document = asyncapi_document()
    document["operations"]["publishBillingEvents"]["action"] = "publish"  # AsyncAPI 2 wording
    assert list(Draft7Validator(official).iter_errors(document))


def test_the_asyncapi_document_names_the_topic_key_headers_and_every_message() -> None:
    document = load("asyncapi.json")
    [channel] = document["channels"].values()
    assert channel["address"] == DEFAULT_TOPIC == Settings.model_fields["topic"].default
    messages = document["components"]["messages"]
    assert set(messages) == committed_keys() - {"envelope.v1"}
    for key, message in messages.items():
        assert message["payload"]["schema"] == {"$ref": f"schemas/{key}.json"}
        assert (CONTRACT / message["payload"]["schema"]["$ref"]).exists()
        assert message["bindings"]["kafka"]["key"]["format"] == "uuid"
        assert set(message["headers"]["required"]) == {
            "content-type",
            "event-type",
            "schema-version",
            "event-id",
            "position",
        }
    assert asyncapi_document("other.topic")["channels"]["billingEvents"]["address"] == "other.topic"


def stored_messages(forgotten: int = 0) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """Every event of the store written by an earlier version (every event type but those
    added since), as the relay would publish it today, personal fields sealed: value and
    headers. The first `forgotten` accounts' keys are destroyed first (erased values)."""
    app = LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    keys = InMemoryDataKeys()
    cipher = AesGcmFields(keys)
    stored = load_store()["accounts"]
    rows = [row for account in stored for row in account["events"]]
    for account in stored[:forgotten]:
        keys.destroy(UUID(account["id"]))
    published = []
    for position, row in enumerate(rows, start=1):
        envelope = envelope_of(app.mapper.to_domain_event(stored_of(row)), position)
        envelope = sealed(envelope, cipher)
        headers = {name: value.decode() for name, value in headers_of(envelope)}
        published.append((envelope.to_dict(), headers))
    return published


ADDED_SINCE_THE_FIXTURE = {"AccountForgotten"}  # covered by tests/integration/test_contract_kafka


def test_every_message_of_a_stored_history_is_valid_against_its_committed_schema() -> None:
    contract = ContractValidator(strict=True)
    for forgotten in (0, 1):
        messages = stored_messages(forgotten)
        names = {value["event_type"] for value, _ in messages}
        assert names == {e.name for e in PUBLIC_EVENTS} - ADDED_SINCE_THE_FIXTURE
        for value, headers in messages:
            assert contract.errors(value, headers) == [], value["event_type"]


def test_personal_fields_are_published_sealed_and_erased_once_forgotten() -> None:
    [(opened, _), *_] = stored_messages()
    assert set(opened["data"]["name"]) == {"sealed"}
    assert "Ada" not in json.dumps(stored_messages())
    [(erased, _), *_] = stored_messages(forgotten=1)
    assert (erased["data"]["name"], erased["data"]["email"]) == (ERASED, ERASED_EMAIL)


def test_a_message_that_breaks_its_schema_is_refused() -> None:
    contract = ContractValidator(strict=True)
    value, headers = next(m for m in stored_messages() if m[0]["event_type"] == "RefundIssued")
    assert contract.errors(value, headers) == []
    as_float = {**value, "data": {**value["data"], "amount": 12.5}}
    unknown = {**value, "data": {**value["data"], "note": "x"}}
    no_account = {k: v for k, v in value.items() if k != "account_id"}
    bad_time = {**value, "meta": {**value["meta"], "occurred_at": "yesterday"}}
    for broken in (as_float, unknown, no_account, bad_time):
        assert contract.errors(broken, headers), broken
    assert contract.errors(value, {**headers, "schema-version": "2"})
    assert ContractValidator(strict=False).errors(unknown, headers) == []


def test_a_type_the_envelope_cannot_carry_has_no_schema() -> None:
    with pytest.raises(NoSchema):
        TypeSchemas().of(float)
    with pytest.raises(NoSchema):
        TypeSchemas().of(dict[int, str])
