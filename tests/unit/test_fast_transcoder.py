"""The application's transcoder decodes with orjson: every stored state reads back as the
standard eventsourcing JSON transcoder reads it (the stored fixture of an earlier version,
snapshots included, and generated JSON of every shape), and what orjson refuses is still read."""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import JSONTranscoder
from hypothesis import given
from hypothesis import strategies as st

from commands.application import LedgerApplication
from commands.transcodings import FastJSONTranscoder
from tests.fixtures.store_fixture import load


def transcoders() -> tuple[JSONTranscoder, JSONTranscoder]:
    app = LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    fast = app.mapper.transcoder
    assert isinstance(fast, FastJSONTranscoder)
    standard = JSONTranscoder()
    app.register_transcodings(standard)
    return fast, standard


FAST, STANDARD = transcoders()


def stored_states() -> list[bytes]:
    accounts = load()["accounts"]
    rows = [row for a in accounts for row in [*a["events"], *a["snapshots"]]]
    return [row["state"].encode("utf-8") for row in rows]


def test_every_stored_state_of_the_fixture_decodes_as_the_standard_transcoder_does() -> None:
    states = stored_states()
    assert len(states) > 100
    for state in states:
        assert FAST.decode(state) == STANDARD.decode(state)


def test_an_encoded_state_round_trips_to_equal_objects() -> None:
    for state in stored_states():
        decoded = STANDARD.decode(state)
        assert FAST.decode(STANDARD.encode(decoded)) == decoded


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
        | st.builds(lambda data: {"_type_": "uuid_hex", "_data_": data}, st.uuids().map(str))
        | st.builds(
            lambda child: {"_type_": "unknown-but-3-keys", "_data_": child, "x": 1}, children
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_generated_json_decodes_as_the_standard_transcoder_does(value: Any) -> None:
    data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    assert FAST.decode(data) == STANDARD.decode(data)


def test_what_orjson_refuses_is_read_by_the_json_module() -> None:
    for text in ('{"a": NaN}', '{"a": 123456789012345678901234567890}', '{"a": "\\ud800"}'):
        assert FAST.decode(text.encode()) == STANDARD.decode(text.encode())
