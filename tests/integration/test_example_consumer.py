"""examples/consumer against the real broker: it validates what the relay publishes against
the committed contract, builds its own view, commits offsets only after applying, skips
republished events, passes over an invalid message, and rebuilds from the topic's start."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer

from adapters.bootstrap import Container
from adapters.forget import forget
from commands.base import load_account
from examples.consumer import view
from examples.consumer.subscriber import Subscriber, open_subscriber
from tests.contract_check import CONTRACT
from tests.fakes.builders import support_ctx
from tests.fixtures.make_store_fixture import bad_debt_account, full_account, waiting_account
from tests.integration.test_contract_kafka import story_on
from tests.integration.test_kafka_flow import relay_everything, write_accounts

ROOT = CONTRACT.parents[1]


@pytest.fixture
def subscriber(kafka_container: Container, tmp_path: Path) -> Iterator[Subscriber]:
    settings = kafka_container.settings
    built = open_subscriber(
        str(settings.kafka_bootstrap), settings.topic, "example", CONTRACT, tmp_path / "v.db"
    )
    yield built
    built.db.close()


def expected_owed(container: Container, ids: list[UUID]) -> dict[str, dict[str, int]]:
    """What each account owes, as the ledger's own aggregate says."""
    owed = {}
    for account_id in ids:
        receivable = load_account(container.deps.app, account_id).receivable
        owed[str(account_id)] = {receivable.currency: receivable.amount}
    return owed


def rows(subscriber: Subscriber, sql: str) -> list[tuple[object, ...]]:
    return list(subscriber.db.execute(sql))


async def test_the_example_consumer_builds_its_view_once_and_rebuilds_it(
    kafka_container: Container, subscriber: Subscriber
) -> None:
    story = story_on(kafka_container)
    ids = [full_account(story), bad_debt_account(story), waiting_account(story)]
    head = await relay_everything(kafka_container)
    first = await subscriber.catch_up()
    assert (first.read, first.applied, first.rejected) == (head, head, 0)
    assert view.owed(subscriber.db) == expected_owed(kafka_container, ids)
    assert view.owed(subscriber.db)[str(ids[2])] == {"EUR": 2000}  # waiting for 3-D Secure
    statuses = rows(subscriber, "SELECT account_id, status, forgotten FROM accounts")
    assert sorted(statuses) == sorted(
        [(str(ids[0]), "open", 0), (str(ids[1]), "closed", 0), (str(ids[2]), "open", 0)]
    )
    assert (await subscriber.catch_up(idle_ms=1500)).read == 0  # offsets were committed

    with kafka_container.connection() as conn:  # the relay lost its position: republishes
        conn.execute("DELETE FROM relay_positions")
        conn.commit()
    await relay_everything(kafka_container)
    again = await subscriber.catch_up()
    assert (again.read, again.applied, again.skipped) == (head, 0, head)
    assert view.owed(subscriber.db) == expected_owed(kafka_container, ids)

    subscriber.db.execute("DELETE FROM owed")  # the view is lost or its code changed
    rebuilt = await subscriber.rebuild()
    assert (rebuilt.read, rebuilt.applied) == (2 * head, head)
    assert view.owed(subscriber.db) == expected_owed(kafka_container, ids)

    forget(kafka_container, ids[0], support_ctx("the customer asked to be forgotten"))
    await relay_everything(kafka_container)
    assert (await subscriber.catch_up()).applied == 1
    forgotten = "SELECT forgotten FROM accounts WHERE account_id = ?"
    assert list(subscriber.db.execute(forgotten, (str(ids[0]),))) == [(1,)]
    assert view.owed(subscriber.db) == expected_owed(kafka_container, ids)  # money kept


async def test_an_invalid_message_is_rejected_and_passed_over(
    kafka_container: Container, subscriber: Subscriber
) -> None:
    story = story_on(kafka_container)
    account_id = full_account(story)
    await relay_everything(kafka_container)
    await subscriber.catch_up()
    before = view.owed(subscriber.db)
    bogus = {
        "schema": "billing.event/1",
        "event_id": str(uuid4()),
        "event_type": "RefundIssued",
        "schema_version": 1,
        "account_id": str(account_id),
        "stream_version": 999,
        "position": 999,
        "meta": {
            "actor": {"id": "x", "kind": "system"},
            "surface": "system",
            "reason": None,
            "correlation_id": str(uuid4()),
            "causation_id": None,
            "command_id": None,
            "occurred_at": "2026-01-01T00:00:00+00:00",
        },
        "data": {
            "attempt_id": "a",
            "refund_id": "r",
            "amount": "12.50",
            "journal": {
                "postings": [
                    {"account": "receivable", "amount": {"amount": 1250, "currency": "USD"}}
                ]
            },
        },
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka_container.settings.kafka_bootstrap)
    await producer.start()
    try:
        topic, key = kafka_container.settings.topic, str(account_id).encode()
        await producer.send_and_wait(topic, json.dumps(bogus).encode(), key=key)
        await producer.send_and_wait(topic, b"not json", key=key)
    finally:
        await producer.stop()
    progress = await subscriber.catch_up()
    assert (progress.read, progress.applied, progress.rejected) == (2, 0, 2)
    reasons = [str(r[0]) for r in rows(subscriber, "SELECT reason FROM rejected ORDER BY 1")]
    assert reasons[0].startswith("$.data.amount: '12.50' is not of type 'integer'")
    assert reasons[1].startswith("not JSON")
    assert view.owed(subscriber.db) == before
    assert (await subscriber.catch_up(idle_ms=1500)).read == 0


def test_the_example_runs_as_a_command(kafka_container: Container, tmp_path: Path) -> None:
    write_accounts(kafka_container, 3)
    head = asyncio.run(relay_everything(kafka_container))
    settings = kafka_container.settings
    command = [sys.executable, "-m", "examples.consumer", "--bootstrap"]
    command += [str(settings.kafka_bootstrap), "--topic", settings.topic]
    command += ["--contract", str(CONTRACT), "--db", str(tmp_path / "cli.db")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Progress(read={head}, applied={head}, skipped=0, rejected=0)" in done.stdout
    again = subprocess.run([*command, "--rebuild"], cwd=ROOT, capture_output=True, text=True)
    assert f"Progress(read={head}, applied={head}, skipped=0, rejected=0)" in again.stdout
