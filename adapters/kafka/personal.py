"""Personal fields on `billing.events`: sealed as in the store, never in clear.

The relay seals an envelope's personal fields with the account's data key before
publishing ({"sealed": "<base64>"}, the same AES-GCM and associated data as the store);
once the account is forgotten they are published as their erased values. The ledger's own
projectors open them with the same key store before folding, so a projection gets the same
envelope from Kafka as from the store. A subscriber outside the ledger holds no key: for it
a personal field is opaque (docs/events.md, "Personal data and forgetting")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from adapters.bootstrap import Container
from commands.personal import SEALED, FieldCipher, is_sealed
from ledger.account.registry import UnregisteredEvent, event_class_named
from ledger.envelope import EventEnvelope
from ledger.personal import PERSONAL_FIELDS, erased_value

ReadAfter = Callable[[int, int], list[EventEnvelope]]


def personal_paths(event_type: str) -> tuple[str, ...]:
    try:
        return PERSONAL_FIELDS.get(event_class_named(event_type).TOPIC, ())
    except UnregisteredEvent:
        return ()


def sealed(env: EventEnvelope, cipher: FieldCipher) -> EventEnvelope:
    return _each_field(env, lambda path, value: _seal(cipher, env, path, value))


def opened(env: EventEnvelope, cipher: FieldCipher) -> EventEnvelope:
    return _each_field(env, lambda path, value: _open(cipher, env, path, value))


def sealing(read_after: ReadAfter, cipher: FieldCipher) -> ReadAfter:
    """The relay's reader: the store's envelopes with their personal fields sealed."""

    def read(position: int, limit: int) -> list[EventEnvelope]:
        return [sealed(env, cipher) for env in read_after(position, limit)]

    return read


def published_reader(container: Container) -> ReadAfter:
    """What the relay publishes: the store's envelopes, sealed when the container seals."""
    cipher = container.app.personal
    read_after = container.reader.read_after
    return read_after if cipher is None else sealing(read_after, cipher)


def _seal(cipher: FieldCipher, env: EventEnvelope, path: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = cipher.seal(env.account_id, path, value)
    return erased_value(path) if text is None else {SEALED: text}


def _open(cipher: FieldCipher, env: EventEnvelope, path: str, value: Any) -> Any:
    if not is_sealed(value):
        return value
    text = cipher.open(env.account_id, path, value[SEALED])
    return erased_value(path) if text is None else text


def _each_field(env: EventEnvelope, change: Callable[[str, Any], Any]) -> EventEnvelope:
    paths = personal_paths(env.event_type)
    if not paths:
        return env
    data = dict(env.data)
    for path in paths:
        head, _, rest = path.partition(".")
        if not rest:
            if head in data:
                data[head] = change(path, data[head])
        elif isinstance(data.get(head), dict) and rest in data[head]:
            data[head] = {**data[head], rest: change(path, data[head][rest])}
    return replace(env, data=data)
