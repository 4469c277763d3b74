"""`projections status`: positions, lag and, with Kafka, each consumer group's state."""

from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.main import app
from adapters.kafka.groups import describe
from adapters.kafka.projector import group_id
from tests.integration.test_kafka_flow import (
    project_until_caught_up,
    relay_everything,
    write_accounts,
)

runner = CliRunner()


async def test_status_shows_each_consumer_group_and_its_lag(
    kafka_container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_accounts(kafka_container, 5)
    await relay_everything(kafka_container)
    settings = kafka_container.settings
    accounts = kafka_container.projections["accounts"]
    before = await describe(str(settings.kafka_bootstrap), settings.topic, [group_id(accounts)])
    assert before[group_id(accounts)].lag == 10  # nothing of this topic consumed yet

    await project_until_caught_up(kafka_container)
    members = REGISTRY.get_sample_value(
        "billing_projection_consumer_members", {"projection": "accounts"}
    )
    assert members is not None  # the projector watched its group as it ran
    lag_s = REGISTRY.get_sample_value("billing_projection_lag_seconds", {"projection": "accounts"})
    assert lag_s is not None
    assert lag_s >= 0

    monkeypatch.setenv("LEDGER_DATABASE_URL", kafka_container.db.conninfo)
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", str(settings.kafka_bootstrap))
    monkeypatch.setenv("LEDGER_TOPIC", settings.topic)
    result = await asyncio.to_thread(runner.invoke, app, ["projections", "status", "--json"])
    assert result.exit_code == 0, result.output
    rows = {d["projection"]: d for d in map(json.loads, result.output.splitlines())}
    accounts_row = rows["accounts"]
    assert accounts_row["lag_events"] == 0
    assert accounts_row["store_head"] == 10
    group = accounts_row["consumer_group"]
    assert group["state"] in {"Empty", "Stable", "PreparingRebalance"}
    assert group["lag"] == 0
    assert group["committed"] == 10
    assert rows["invoices"]["consumer_group"]["lag"] == 10  # never consumed this topic
    assert rows["invoices"]["lag_events"] == 10
    assert rows["invoices"]["lag_seconds"] >= 0
