"""adapters/postgres/stored_envelopes.py reads stored events as envelopes without building
the domain events, and must give exactly what the typed path gives
(`envelope_of(mapper.to_domain_event(stored))`): on every event type as stored today (sealed
and in clear, opened and erased), and, by handing it to the typed path, on everything it
does not read itself (older class versions, unknown transcodings, value objects whose
stored fields are not their class's today, JSON orjson refuses)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from adapters.field_cipher import AesGcmFields
from adapters.postgres.stored_envelopes import NotPlain, PlainEnvelopes
from commands import forget
from commands.application import LedgerApplication
from commands.base import Deps
from commands.models import ForgetAccount
from ledger.account.registry import PUBLIC_EVENTS
from ledger.envelope import EventEnvelope, envelope_of
from tests.fakes.builders import in_memory_deps, support_ctx
from tests.fakes.data_keys import InMemoryDataKeys
from tests.fakes.personal_data import InMemoryPersonalData
from tests.fixtures.store_fixture import load, stored_of
from tests.unit.test_personal_data import keys_of, opened

ROWS = [row for account in load()["accounts"] for row in account["events"]]


def popo_app() -> LedgerApplication:
    return LedgerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def typed(app: LedgerApplication, stored: StoredEvent, position: int) -> EventEnvelope:
    return envelope_of(app.mapper.to_domain_event(stored), position)


def as_today(app: LedgerApplication, rows: list[dict[str, Any]]) -> list[StoredEvent]:
    """The fixture's events stored again by today's mapper: today's class versions."""
    return [app.mapper.to_stored_event(app.mapper.to_domain_event(stored_of(r))) for r in rows]


def sealing_app(keys: InMemoryDataKeys) -> LedgerApplication:
    return LedgerApplication(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, personal=AesGcmFields(keys)
    )


def forgotten_history() -> tuple[Deps, list[StoredEvent]]:
    """An account opened with PayPal, then forgotten (AccountForgotten, which the fixture
    predates), stored sealed; its key is destroyed."""
    deps = in_memory_deps()
    account_id = opened(deps)
    personal = InMemoryPersonalData(deps.app, keys_of(deps))
    forget.forget_account(deps, personal, ForgetAccount(account_id=account_id), support_ctx())
    return deps, list(deps.app.recorder.select_events(account_id))


@pytest.mark.parametrize("sealing", [False, True], ids=["clear", "sealed"])
def test_every_event_type_as_stored_today_reads_plain_and_the_same(sealing: bool) -> None:
    keys = InMemoryDataKeys()
    app = sealing_app(keys) if sealing else popo_app()
    plain = PlainEnvelopes(app.mapper)
    stored = as_today(app, ROWS)
    if sealing:
        assert b'"sealed"' in stored[0].state
    for position, event in enumerate(stored, start=1):
        assert plain.plain_envelope(event, position) == typed(app, event, position)
    names = {plain.plain_envelope(e, 1).event_type for e in stored}
    assert names == {e.name for e in PUBLIC_EVENTS} - {"AccountForgotten"}


def test_erased_fields_and_the_forgetting_read_the_same() -> None:
    deps, stored = forgotten_history()
    plain = PlainEnvelopes(deps.app.mapper)
    envelopes = [plain.plain_envelope(e, p) for p, e in enumerate(stored, start=1)]
    assert envelopes == [typed(deps.app, e, p) for p, e in enumerate(stored, start=1)]
    assert "AccountForgotten" in {e.event_type for e in envelopes}
    assert envelopes[0].data["name"] != "Ada Lovelace"  # erased, as the typed path reads it


def test_a_key_destroyed_after_the_fixture_was_sealed_reads_erased_the_same() -> None:
    keys = InMemoryDataKeys()
    app = sealing_app(keys)
    stored = as_today(app, ROWS)
    keys.destroy(UUID(str(stored[0].originator_id)))
    plain = PlainEnvelopes(app.mapper)
    first = plain.plain_envelope(stored[0], 1)
    assert first == typed(app, stored[0], 1)
    assert first.data["name"] != json.loads(ROWS[0]["state"])["name"]


def test_older_class_versions_go_to_the_typed_path_and_read_the_same() -> None:
    app = popo_app()
    plain = PlainEnvelopes(app.mapper)
    older = 0
    for position, row in enumerate(ROWS, start=1):
        event = stored_of(row)
        try:
            plain.plain_envelope(event, position)
        except NotPlain:
            older += 1
        assert plain.envelope(event, position) == typed(app, event, position)
    assert older > 0  # the fixture holds events stored before their class's version went up


def _restated(event: StoredEvent, change: Any) -> StoredEvent:
    state = json.loads(event.state)
    change(state)
    return StoredEvent(
        event.originator_id, event.originator_version, event.topic, json.dumps(state).encode()
    )


def _first_value_object(state: dict[str, Any]) -> dict[str, Any]:
    for value in state.values():
        if isinstance(value, dict) and "." in str(value.get("_type_")):  # e.g. money.Money
            return value
    raise LookupError("no value object")


def test_what_the_plain_reading_cannot_vouch_for_goes_to_the_typed_path() -> None:
    app = popo_app()
    plain = PlainEnvelopes(app.mapper)
    today = as_today(app, ROWS)
    with_value = next(e for e in today if _has_value_object(e))

    def drop_a_field(state: dict[str, Any]) -> None:
        data = _first_value_object(state)["_data_"]
        data.pop(next(iter(data)))

    def unknown_type(state: dict[str, Any]) -> None:
        _first_value_object(state)["_type_"] = "nobody.Knows"

    for change in (drop_a_field, unknown_type):
        broken = _restated(with_value, change)
        with pytest.raises(NotPlain):
            plain.plain_envelope(broken, 1)
        with pytest.raises(MapperDeserialisationError):  # the typed path raises, as before
            plain.envelope(broken, 1)


def _has_value_object(event: StoredEvent) -> bool:
    try:
        _first_value_object(json.loads(event.state))
    except LookupError:
        return False
    return True


def test_an_enum_value_the_class_does_not_have_raises_on_both_paths() -> None:
    app = popo_app()
    plain = PlainEnvelopes(app.mapper)
    method_added = next(e for e in as_today(app, ROWS) if e.topic.endswith("PaymentMethodAdded"))

    def bad_kind(state: dict[str, Any]) -> None:
        state["method"]["_data_"]["kind"] = "cheque"

    broken = _restated(method_added, bad_kind)
    with pytest.raises(ValueError, match="cheque"):
        plain.plain_envelope(broken, 1)
    with pytest.raises(ValueError, match="cheque"):
        plain.envelope(broken, 1)


def test_events_of_one_command_share_no_meta_object() -> None:
    app = popo_app()
    plain = PlainEnvelopes(app.mapper)
    event = as_today(app, ROWS)[0]
    first, second = plain.plain_envelope(event, 1), plain.plain_envelope(event, 2)
    assert first.meta == second.meta
    first.meta["actor"]["id"] = "changed by a consumer"
    assert second.meta["actor"]["id"] != "changed by a consumer"
    assert plain.plain_envelope(event, 3).meta == second.meta
