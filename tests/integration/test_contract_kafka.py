"""A realistic history (every event type, written by the application services on PostgreSQL)
relayed through the real broker: every message a consumer reads, its value and headers, is
valid against the committed contract (docs/contract/), strictly (no field it does not name),
and the key is the account id the contract says."""

from __future__ import annotations

import dataclasses
import json

from adapters.bootstrap import Container
from adapters.forget import forget
from ledger.account.registry import PUBLIC_EVENTS
from ledger.personal import ERASED
from tests.contract_check import ContractValidator
from tests.fakes.builders import support_ctx
from tests.fixtures.make_store_fixture import (
    Story,
    bad_debt_account,
    full_account,
    out_of_band_account,
    waiting_account,
)
from tests.integration.test_kafka_flow import read_topic, relay_everything


def story_on(container: Container) -> Story:
    """The stored fixture's story (fake processors, its own clock), written to PostgreSQL."""
    story = Story()
    story.deps = dataclasses.replace(
        story.deps, app=container.deps.app, positions=container.deps.positions
    )
    return story


async def test_every_message_of_a_realistic_history_is_valid_against_its_schema(
    kafka_container: Container,
) -> None:
    story = story_on(kafka_container)
    for write in (full_account, bad_debt_account, waiting_account):
        write(story)
    forgotten = out_of_band_account(story)
    forget(kafka_container, forgotten, support_ctx("the customer asked to be forgotten"))
    head = kafka_container.reader.head()
    assert await relay_everything(kafka_container) == head
    records = await read_topic(kafka_container, head)
    assert len(records) == head
    contract = ContractValidator(strict=True)
    seen = set()
    for record in records:
        value = json.loads(record.value)  # type: ignore[attr-defined]
        headers = {k: v.decode() for k, v in record.headers}  # type: ignore[attr-defined]
        assert contract.errors(value, headers) == [], value["event_type"]
        assert record.key.decode() == value["account_id"]  # type: ignore[attr-defined]
        seen.add((value["event_type"], value["schema_version"]))
        if value["account_id"] == str(forgotten) and "name" in value["data"]:
            assert value["data"]["name"] == ERASED  # published after its key was destroyed
        elif "name" in value["data"]:
            assert set(value["data"]["name"]) == {"sealed"}
    assert seen == {(e.name, e.version) for e in PUBLIC_EVENTS}
