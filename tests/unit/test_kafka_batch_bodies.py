"""The projector's batch decoder: each record's body parsed as JSON; one that is not JSON is
kept as bytes, and the batch's decoding then parks it (identity unreadable: logged and left),
while the others decode to the envelopes the relay published."""

from __future__ import annotations

import json
from types import SimpleNamespace
from uuid import uuid4

from adapters.kafka import codec
from adapters.kafka.projector import decode_batch
from ledger.envelope import EventEnvelope, event_id_for


def envelope(version: int) -> EventEnvelope:
    account_id = uuid4()
    return EventEnvelope(
        event_id=event_id_for(account_id, version),
        event_type="AccountClosed",
        schema_version=1,
        account_id=account_id,
        stream_version=version,
        position=version,
        meta={"correlation_id": str(uuid4()), "note": "ünïcode ✓"},
        data={"amount": 2**62, "reason": None},
    )


def batch(*values: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(raw_message=tuple(SimpleNamespace(value=v) for v in values))


def test_bodies_parse_as_the_json_module_parses_them() -> None:
    first, second = envelope(1), envelope(2)
    values = [codec.value_of(first), codec.value_of(second)]
    assert codec.batch_bodies(batch(*values)) == [json.loads(v) for v in values]
    envelopes, unreadable = decode_batch(codec.batch_bodies(batch(*values)))
    assert envelopes == [first, second]
    assert unreadable == []


def test_a_body_that_is_not_json_stays_bytes_and_does_not_fail_the_batch() -> None:
    good = envelope(3)
    bodies = codec.batch_bodies(batch(b"\x00not json", None, codec.value_of(good)))
    assert bodies[:2] == [b"\x00not json", b""]
    envelopes, unreadable = decode_batch(bodies)
    assert envelopes == [good]
    assert unreadable == []  # no identity to park: logged, the store still has the event
